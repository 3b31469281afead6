"""The posts page in Chromium against Daphne and a real rqworker: a post sent to the API appears live, tagged."""

import json
import urllib.request

import pytest
from django.contrib.auth.models import User

from memory.models import ApiToken, Membership
from memory.posts.models import Post
from tests.browser.conftest import live_site, page  # noqa: F401 - the browser fixtures
from tests.memory.factories import make_workspace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def open_posts_page_as_member(live_site, page):
    """Sign a workspace owner (not staff) in on /posts/ and wait for its live stream; its API token."""
    user = User.objects.create_user("browser", "browser@example.com", "browser-pw")
    workspace = make_workspace("demo")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    secret = ApiToken.issue(user, "producer", workspace=workspace)
    page.goto(f"{live_site}/accounts/login/?next=/posts/")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_site}/posts/")
    page.wait_for_function("() => document.getElementById('live-state').textContent === 'live'")
    return secret


def test_a_posted_post_appears_live_with_its_tags_marked_and_filters_work(live_site, page):  # noqa: F811
    # A plain member (not staff): the page's live stream is the workspace's, not the operators' dashboard.
    secret = open_posts_page_as_member(live_site, page)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    def send(external_id, text, channel):
        body = json.dumps({"posts": [{"external_id": external_id, "text": text, "channel": channel}]}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{live_site}/api/posts", data=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {secret}"}))

    send("1", "Acme Corp moves the billing service to PostgreSQL next week.", "acme-news")
    send("2", "Globex opens a new office in Berlin for the support team.", "globex-news")
    page.wait_for_selector("#posts tr[data-stage=indexed]:has-text('Acme Corp') mark.tag", timeout=90_000)
    page.wait_for_selector("#posts tr[data-stage=indexed]:has-text('Globex')", timeout=90_000)
    assert navigations == [], "the page must update without a reload"
    acme = Post.objects.get(external_id="1")
    marked = page.locator(f"#posts tr[data-post='{acme.pk}'] mark.tag").all_inner_texts()
    assert marked and all(text in acme.text for text in marked)
    page.click("#posts a[href='?channel=globex-news']")
    page.wait_for_url("**channel=globex-news**")
    assert page.locator("#posts tr[data-post]").count() == 1
    assert page.locator("#id_channel").input_value() == "globex-news"
    tag = page.locator("#posts tr[data-post] .tags a").first
    tag_text = tag.inner_text()
    tag.click()
    page.wait_for_url("**tag=**")
    rows = page.locator("#posts tr[data-post]")
    assert rows.count() >= 1 and tag_text.casefold() in rows.first.inner_text().casefold()


@pytest.fixture
def image_server(monkeypatch):
    """A PNG with printed text on 127.0.0.1; the worker subprocess may fetch it (its env is read after this)."""
    from tests.memory.chats.fake_servers import FakeServer
    from tests.memory.documents.samples import png_of_text

    monkeypatch.setenv("MEMORY_POSTS_FETCH_ALLOW_PRIVATE", "1")
    server = FakeServer()
    server.route("/notice.png", (200, png_of_text("Invoice 4821 from Zephyrine Logistics is due on Friday."),
                                 {"Content-Type": "image/png"}))
    yield server
    server.close()


def test_the_text_read_from_a_posts_image_appears_live_in_the_preview(image_server, live_site, page):  # noqa: F811
    secret = open_posts_page_as_member(live_site, page)
    body = json.dumps({"posts": [{"external_id": "1", "text": "The supplier's notice", "channel": "finance",
                                  "images": [f"{image_server.url}/notice.png"]}]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{live_site}/api/posts", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {secret}"}))
    row = "#posts tr[data-stage=indexed]:has-text('supplier')"
    page.wait_for_selector(f"{row} .ocr-text", timeout=90_000)
    assert "Zephyrine Logistics" in page.locator(f"{row} .ocr-text").inner_text()
