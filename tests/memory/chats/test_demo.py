"""`make run`'s demo chat: stored, scored, and turned into topics and atoms by the real jobs."""

import pytest

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.demo import DEMO_MESSAGES, load_demo_chat
from memory.chats.models import Atom, Chat, ChatTopic, Message, NoiseClass, TelegramBot
from tests.memory.factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_chat_is_scored_and_yields_topics_and_atoms(work):
    workspace = make_workspace("demo")
    chat_id = load_demo_chat(workspace)
    work()
    assert not JobRun.objects.exclude(status=RunStatus.SUCCEEDED).exists()
    chat = Chat.objects.get(pk=chat_id)
    assert chat.messages.count() == len(DEMO_MESSAGES) and not Message.objects.unscored().exists()
    classes = set(chat.messages.values_list("noise_class", flat=True))
    assert {NoiseClass.NOISE, NoiseClass.SIGNAL} <= classes
    assert chat.messages.get(text="ok").noise_class == NoiseClass.NOISE
    assert ChatTopic.objects.filter(workspace=workspace).exists() and Atom.objects.filter(workspace=workspace).exists()
    assert TelegramBot.objects.filter(workspace=workspace).count() == 1
    load_demo_chat(workspace)  # a second load stores nothing new
    assert chat.messages.count() == len(DEMO_MESSAGES)
