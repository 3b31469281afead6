"""The demo chat of `make run`: a team chat stored as an export import would store it, then scored."""

import datetime as dt

from django.utils import timezone

from .models import ChatSource, TelegramBot
from .services.storing import RowCache, store_records
from .telegram import AuthorRecord, ChatRecord, MessageRecord

DEMO_CHAT = ChatRecord(telegram_id=-1001000000001, title="Platform team (demo)", type="supergroup")
PEOPLE = {
    "alice": AuthorRecord(1001, "Alice", "Chen", "alice"),
    "bob": AuthorRecord(1002, "Bob", "Martin", "bob"),
    "carol": AuthorRecord(1003, "Carol", "Diaz", "carol"),
}
DEMO_MESSAGES = [
    ("alice", "Morning! The nightly backup of the billing database failed again, the disk is full."),
    ("bob", "ok"),
    ("bob", "Database backup failed last night too: no space left on the disk. Logs: https://grafana.example.com/d/backups"),
    ("carol", "Can @bob add an alert on free disk space for the database hosts?"),
    ("bob", "Sure, I'll add the alert today."),
    ("alice", "We decided to move the backups to object storage before the end of the month."),
    ("carol", "lol"),
    ("alice", "Globex asked for single sign-on before renewing their contract."),
    ("carol", "Does anyone know when the Globex contract ends?"),
    ("bob", "The deploy pipeline fails when the container image is larger than two gigabytes."),
    ("alice", "Can we shrink the image by dropping the test fixtures from the build?"),
    ("carol", "Happy birthday Bob! 🎂"),
    ("bob", "thanks!"),
    ("alice", "Users complained that the mobile app logs them out every day."),
    ("carol", "The mobile logout bug is caused by the session cookie expiring after 24 hours."),
]


def load_demo_chat(workspace):
    """Store the demo chat and its bot (idempotent), then queue scoring and knowledge extraction."""
    from .tasks import extract_knowledge_from_messages, score_unscored_messages  # noqa: PLC0415 - tasks import services

    TelegramBot.objects.get_or_create(workspace=workspace, name="demo bot")
    start = timezone.now() - dt.timedelta(hours=3)
    records = [MessageRecord(chat=DEMO_CHAT, telegram_id=n, author=PEOPLE[who], text=text,
                             sent_at=start + dt.timedelta(minutes=7 * n))
               for n, (who, text) in enumerate(DEMO_MESSAGES, start=1)]
    stored = store_records(records, RowCache(workspace, ChatSource.DEMO))
    score_unscored_messages.enqueue()
    chat_id = RowCache(workspace, ChatSource.DEMO).chat_id(DEMO_CHAT)
    extract_knowledge_from_messages.enqueue([message_id for _, _, message_id in stored], chat_id=chat_id)
    return chat_id
