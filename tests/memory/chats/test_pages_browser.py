"""The chat pages in Chromium, against Daphne and a real rqworker: live imports, chats, runs, experiments."""

import csv
import json
import re
import time
import urllib.request

import pytest
from django.contrib.auth.models import User

from memory.chats.models import Chat, Message
from memory.models import Membership, Workspace
from tests.browser.conftest import live_site, page  # noqa: F401 - the browser fixtures
from tests.memory.factories import make_workspace

from .factories import make_bot
from .labelled_messages import LABELLED
from .shapes import bot_update, export_message, single_chat_export, write_export

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, site, next_url):
    """Sign in as a plain member (not staff) of every workspace: the live pages are theirs too."""
    user = User.objects.create_user("browser", "browser@example.com", "browser-pw")
    for workspace in Workspace.objects.all():
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.MEMBER)
    page.goto(f"{site}/accounts/login/?next={next_url}")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}{next_url}")


def test_an_uploaded_export_shows_live_progress_then_a_scored_chat(live_site, page, tmp_path):  # noqa: F811
    workspace = make_workspace("demo")
    messages = [export_message(i, f"Message {i}: the backup plan needs a review by the platform team?")
                for i in range(1, 400)] + [export_message(400, "ok")]
    path = write_export(tmp_path / "result.json", single_chat_export(messages))
    log_in(page, live_site, "/chats/imports/")
    page.select_option("#id_workspace", str(workspace.pk))
    page.set_input_files("#id_export", str(path))
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r".*/chats/imports/\d+/$"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.wait_for_function("() => document.querySelector('#state').textContent.trim() === 'Completed'")
    assert navigations == [], "the page must update without a reload"
    assert page.inner_text("[data-counter=created]") == "400"
    assert page.inner_text("#pct") == "100%"
    page.click("#outcome a[href*='/chats/']")
    page.wait_for_selector("#messages .score")  # the import queued scoring; badges arrive live
    page.wait_for_function("() => !document.querySelector('#messages').textContent.includes('scoring')")
    assert page.locator("#messages .score[data-class=noise]").count() == 1
    page.click("text=Nonoise")
    page.wait_for_url(re.compile(r".*noise=no_noise$"))
    assert page.locator("#messages .score[data-class=noise]").count() == 0
    assert page.locator("#messages tbody tr").count() == 200  # the page shows the latest 200


def test_a_message_posted_to_the_webhook_appears_scored_without_a_reload(live_site, page):  # noqa: F811
    bot = make_bot(make_workspace("demo"))
    post = lambda update: urllib.request.urlopen(urllib.request.Request(  # noqa: E731
        f"{live_site}/webhooks/telegram/{bot.path_secret}", data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": bot.header_secret}))
    post(bot_update(1, 1, "First message creates the chat"))
    chat = Chat.objects.get()
    log_in(page, live_site, f"/chats/{chat.pk}/")
    page.wait_for_selector("#messages .score")
    page.wait_for_function("() => document.getElementById('live-state').textContent === 'live'")
    post(bot_update(2, 2, "Can @carol check why the billing export fails with a timeout? https://sentry.example.com",
                    date=int(time.time())))
    page.wait_for_selector("#messages tr:has-text('billing export') .score[data-class=signal]")
    assert Message.objects.count() == 2


def test_an_analysis_run_streams_its_batches_and_proposals_can_be_accepted(live_site, page):  # noqa: F811
    from .factories import make_chat, make_messages

    workspace = make_workspace("demo")
    make_messages(make_chat(workspace), [
        "Can you renew the TLS certificate for the API before Friday?", "thanks!",
        "We decided to move the nightly backups to object storage.", "lol",
        "The payment gateway is down, customers get errors at checkout."])
    log_in(page, live_site, "/chats/analysis/")
    page.select_option("#id_workspace", str(workspace.pk))
    page.fill("#id_batch_size", "2")
    page.click("#new-run button[type=submit]")
    page.wait_for_url(re.compile(r".*/chats/analysis/\d+/$"))
    page.wait_for_function("() => document.querySelector('#state').textContent.trim() === 'Completed'")
    assert "batches: 3 / 3" in page.inner_text("#batches")
    page.wait_for_selector("#proposals tr[data-proposal]")
    first = page.locator("#proposals tr[data-proposal]").first
    first.locator("button[value=accept]").click()
    page.wait_for_selector("#proposals .review[data-review=accepted]")


def test_an_experiment_draws_its_confusion_matrix_as_a_heat_map(live_site, page, tmp_path):  # noqa: F811
    workspace = make_workspace("demo")
    path = tmp_path / "labelled.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for label in ("backups", "hiring", "social"):
            writer.writerows([text, label] for text in LABELLED[label])
    log_in(page, live_site, "/chats/experiments/")
    page.select_option("#id_workspace", str(workspace.pk))
    page.fill("#id_name", "three topics")
    page.select_option("#id_dataset", "csv")
    page.set_input_files("#id_csv_file", str(path))
    page.select_option("#id_classifier", "stacked_svm")
    page.fill("#id_folds", "3")
    page.click("#new-experiment button[type=submit]")
    page.wait_for_url(re.compile(r".*/chats/experiments/\d+/$"))
    page.wait_for_selector("#heatmap td.cell")
    assert page.locator("#heatmap td.cell").count() == 9
    assert page.locator("#per-class tbody tr").count() == 3
    diagonal = page.locator("#heatmap tr").nth(1).locator("td.cell").first
    assert "rgb(" in diagonal.get_attribute("style")
    assert float(page.inner_text("#accuracy")) > 0.5
