"""POST /webhooks/telegram/<path-secret>: real Bot API Update shapes, idempotency and hostile input."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jobs.models import JobRun
from memory.chats.models import Author, Chat, Message

from .factories import make_bot
from .shapes import bot_update, bot_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bot():
    return make_bot()


def post(bot, body, secret=None, path=None):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return Client().post(f"/webhooks/telegram/{path or bot.path_secret}", data=data, content_type="application/json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret if secret is None else secret})


def scoring_runs():
    return JobRun.objects.filter(task_path="memory.chats.tasks.score_message")


def test_a_message_update_is_stored_with_its_author_and_scored_after_commit(bot):
    update = bot_update(1, 42, "Can @bob check https://grafana.example.com before the release?",
                        entities=[{"type": "mention", "offset": 4, "length": 4},
                                  {"type": "url", "offset": 21, "length": 27}],
                        reply_to_message={"message_id": 41, "date": 1, "chat": {"id": -1001234567890,
                                                                                  "type": "supergroup"}})
    response = post(bot, update)
    assert response.status_code == 200 and response.json()["outcome"] == "created"
    message = Message.objects.get()
    assert message.chat.telegram_id == -1001234567890 and message.chat.workspace == bot.workspace
    assert message.author.username == "alice" and message.author.first_name == "Alice"
    assert message.reply_to == 41 and message.entities[1] == {"type": "url", "offset": 21, "length": 27}
    assert message.importance_score is None  # the endpoint does no scoring itself
    run = scoring_runs().get()
    assert run.args == [message.pk]


def test_a_redelivered_update_creates_nothing(bot):
    update = bot_update(1, 42)
    assert post(bot, update).json()["outcome"] == "created"
    response = post(bot, update)
    assert response.status_code == 200 and response.json()["outcome"] == "duplicate"
    assert Message.objects.count() == 1 and Author.objects.count() == 1 and Chat.objects.count() == 1
    assert scoring_runs().count() == 1


def test_an_edited_message_updates_the_row_in_place_and_is_scored_again(bot):
    post(bot, bot_update(1, 42, "first version"))
    Message.objects.update(importance_score=0.2, noise_class="noise")
    response = post(bot, bot_update(2, 42, "second version with more words", kind="edited_message"))
    assert response.json()["outcome"] == "updated"
    message = Message.objects.get()
    assert message.text == "second version with more words" and message.edited_at is not None
    assert message.importance_score is None and message.noise_class == ""
    assert scoring_runs().count() == 2


def test_channel_posts_are_stored_with_the_channel_as_author(bot):
    response = post(bot, bot_update(1, 7, "Release 2.4 is out", kind="channel_post", chat_id=-1009876543210,
                                    title="Announcements"))
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.chat.type == "channel" and message.author.telegram_id == -1009876543210


def test_media_with_a_caption_keeps_the_caption_and_the_media_type(bot):
    update = bot_update(1, 9, None, photo=[{"file_id": "x", "file_unique_id": "y", "width": 90, "height": 90}],
                        caption="Screenshot of the failing deploy")
    update["message"].pop("text")
    post(bot, update)
    message = Message.objects.get()
    assert message.media_type == "photo" and message.text == "Screenshot of the failing deploy"


def test_a_service_message_is_metadata_without_text(bot):
    update = bot_update(1, 10, None, new_chat_members=[bot_user(333, "Carol", "Diaz", "carol")])
    update["message"].pop("text")
    assert post(bot, update).json()["outcome"] == "skipped_service"
    message = Message.objects.get()
    assert message.service_action == "new_chat_members" and message.text == ""
    assert not scoring_runs().exists()


def test_unknown_fields_are_ignored(bot):
    update = bot_update(1, 11, "hello there", some_future_field={"x": 1})
    update["another_new_update_field"] = True
    assert post(bot, update).status_code == 200


@pytest.mark.parametrize("secret", ["", "wrong"])
def test_a_wrong_secret_header_is_refused_and_stores_nothing(bot, secret):
    assert post(bot, bot_update(1, 1), secret=secret).status_code == 403
    assert not Message.objects.exists()


def test_an_unknown_path_secret_is_refused(bot):
    assert post(bot, bot_update(1, 1), path="not-a-bot").status_code == 403


@pytest.mark.parametrize(("body", "reason"), [
    ("{not json", "invalid JSON"),
    ([1, 2], "the update must be an object"),
    ({"update_id": 1}, "carries none of message"),
    ({"update_id": "x", "message": {}}, "update_id must be an integer"),
    (bot_update(1, "forty-two"), "message_id must be an integer"),
    (bot_update(1, 42, text=["not", "a", "string"]), "message.text must be a string"),
    (bot_update(1, 42, date="yesterday"), "message.date must be an integer"),
    (bot_update(1, 42, chat_type="galaxy"), "chat.type 'galaxy' is not a Telegram chat type"),
    ({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "x"}}, "message.chat must be an object"),
])
def test_malformed_updates_get_400_with_the_reason(bot, body, reason):
    response = post(bot, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not Message.objects.exists() and not Chat.objects.exists()


def test_a_ten_megabyte_text_is_refused_with_a_clear_error(bot):
    response = post(bot, bot_update(1, 42, "x" * 10_000_000))
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_text_over_the_limit_inside_a_small_body_is_refused(bot):
    response = post(bot, bot_update(1, 42, "y" * 200_000))
    assert response.status_code == 400 and "the limit is 100,000" in response.json()["error"]


def test_the_endpoint_does_a_bounded_amount_of_work_and_no_scoring(bot):
    """Fast by construction (its time is measured in bench/webhook_latency.py, never asserted here)."""
    post(bot, bot_update(0, 1))  # warm: first request loads URLconf, templates, connections
    for n in range(2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = post(bot, bot_update(n, n, f"message number {n} about the backups"))
        assert response.status_code == 200
        # The bot, the chat, the author, the message and the run row: a handful of statements,
        # whatever the chat's size.
        assert len(queries) <= 15, [q["sql"][:60] for q in queries]  # 12 today
        message = Message.objects.get(telegram_id=n)
        assert message.importance_score is None, "scoring is the job's work, not the request's"
