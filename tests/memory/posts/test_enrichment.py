"""enrich_post against a local site: the article is stored, every unsafe or broken link is refused with its reason."""

import pytest

from memory.models import Memory
from memory.posts import enrichment
from memory.posts.models import Post, PostEnrichment
from tests.memory.factories import make_workspace

from .factories import make_post
from .test_fetch import site  # noqa: F401 - the local HTTP server fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_linked_pages_are_crawled_and_bad_links_refused_with_reasons(site):  # noqa: F811
    base, _ = site
    links = [f"{base}/article", f"{base}/image.png", f"{base}/gone", f"{base}/loop/a", f"{base}/slow",
             f"{base}/private/secret"]
    post = make_post(make_workspace(), "Read the Gazette " + " ".join(links))
    assert post.links == links
    assert enrichment.enrich_post(post.pk) == {"pages": 1, "refused": 5, "images": 0}
    pages = {page["url"]: page for page in PostEnrichment.objects.get(post=post, kind="crawl").data["pages"]}
    article = pages[f"{base}/article"]
    assert article["ok"] and article["title"] and "seven in the morning" in article["text"]
    assert {url.removeprefix(base): page.get("reason") for url, page in pages.items() if not page["ok"]} == {
        "/image.png": "content_type", "/gone": "http_410", "/loop/a": "redirects", "/slow": "timeout",
        "/private/secret": "robots"}
    post.refresh_from_db()
    assert post.stage == "enriched" and post.events[-1]["event"] == "posts.enriched"


def test_an_enriched_post_is_indexed_with_its_pages_and_enriching_again_replaces_the_row(site, work):  # noqa: F811
    base, handler = site
    post = make_post(make_workspace(), f"Timetable change {base}/article")
    work()
    memory = Memory.objects.get(metadata__post_id=post.pk)
    assert "seven in the morning" in memory.content
    handler.routes["/article"] = lambda h: h.reply(404, "text/html", b"gone")
    enrichment.enrich_post(post.pk)
    assert PostEnrichment.objects.filter(post=post, kind="crawl").count() == 1
    assert PostEnrichment.objects.get(post=post, kind="crawl").data["pages"][0]["reason"] == "http_404"
    assert Post.objects.get().stage == "enriched"
