"""memory.core.live: one publish for every capability's events; chats add their chat's group.

Real channels_redis layer and the real publisher: each group's member receives exactly its events.
"""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from jobs.context import current_run
from jobs.live import DASHBOARD_GROUP, MESSAGE_TYPE, publisher, run_group
from jobs.models import JobRun
from jobs.samples import returns_42
from memory.chats import events as chat_events
from memory.chats.events import chat_group
from memory.core import live

pytestmark = pytest.mark.django_db


def listen(*groups):
    """A channel in each group; returns a function that reads what reached each one."""
    layer = get_channel_layer()
    channels = {}
    for group in groups:
        channels[group] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channels[group])

    def received():
        assert publisher.flush()
        out = {}
        for group, channel in channels.items():
            events = []
            while True:
                try:
                    message = async_to_sync(_receive)(layer, channel)
                except TimeoutError:
                    break
                assert message["type"] == MESSAGE_TYPE
                events.extend(message["events"])
            out[group] = events
        return out

    return received


async def _receive(layer, channel):
    async with asyncio.timeout(0.3):
        return await layer.receive(channel)


def test_an_event_reaches_the_dashboard_the_current_runs_group_and_the_extra_groups_only():
    run = JobRun.objects.get(pk=returns_42.enqueue().id)
    received = listen(DASHBOARD_GROUP, run_group(run.pk), "posts-1", "posts-2")
    token = current_run.set(run)
    try:
        live.publish("posts.tagged", extra_groups=("posts-1",), post_id=7)
    finally:
        current_run.reset(token)
    got = received()
    for group in (DASHBOARD_GROUP, run_group(run.pk), "posts-1"):
        [event] = got[group]
        assert event == {**event, "type": "posts.tagged", "post_id": 7, "run_id": str(run.pk)}, group
        assert isinstance(event["at"], float)
    assert got["posts-2"] == []


def test_a_chat_event_also_reaches_its_chats_group_and_no_other_chats():
    received = listen(DASHBOARD_GROUP, chat_group(1), chat_group(2))
    chat_events.publish("message_scored", chat_id=1, message_id=3, score=0.5)
    chat_events.publish("analysis.run_started", analysis_run_id=4)  # about no chat: the dashboard only
    got = received()
    assert [e["type"] for e in got[DASHBOARD_GROUP]] == ["message_scored", "analysis.run_started"]
    assert [(e["type"], e["chat_id"], e["message_id"]) for e in got[chat_group(1)]] == [("message_scored", 1, 3)]
    assert got[chat_group(2)] == []
    assert "run_id" not in got[DASHBOARD_GROUP][0]  # sent outside a run
