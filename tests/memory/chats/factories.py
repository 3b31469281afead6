"""Factories for chats: a bot, a chat, messages."""

import datetime as dt

from django.utils import timezone

from memory.chats.models import Author, Chat, Message, TelegramBot
from tests.memory.factories import make_workspace


def make_bot(workspace=None, **fields):
    return TelegramBot.objects.create(workspace=workspace or make_workspace(), name=fields.pop("name", "teambot"),
                                      **fields)


def make_chat(workspace, telegram_id=-1001234567890, title="Platform team"):
    return Chat.objects.create(workspace=workspace, telegram_id=telegram_id, title=title, type=Chat.Type.SUPERGROUP)


def make_author(workspace, telegram_id=111, first_name="Alice", message_count=0):
    return Author.objects.create(workspace=workspace, telegram_id=telegram_id, first_name=first_name,
                                 message_count=message_count)


def make_messages(chat, texts, author=None, start=None, first_id=1):
    start = start or timezone.now() - dt.timedelta(hours=1)
    return [Message.objects.create(chat=chat, telegram_id=first_id + i, author=author, text=text,
                                   sent_at=start + dt.timedelta(seconds=i)) for i, text in enumerate(texts)]
