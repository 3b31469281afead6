"""Members' live streams: a chat's events and the runs behind their own imports, never another workspace's.

Real ASGI app (origin check, session auth), real channels_redis layer, real publisher.
"""

import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from jobs.consumers import NOT_ALLOWED, NOT_AUTHENTICATED, UNKNOWN_RUN
from jobs.live import publisher
from memory.chats import events
from memory.chats.live import ChatConsumer
from memory.chats.models import MessageIngestionJob
from memory.core import live
from project.asgi import application
from tests.jobs.test_consumers import close_code, headers_for
from tests.memory.factories import make_workspace

from .factories import make_chat

pytestmark = pytest.mark.django_db(transaction=True)


def member(name):
    return User.objects.create_user(name, password="not-used")  # not staff: a plain member


def test_a_member_follows_their_chat_and_hears_its_events_only():
    alice = member("alice")
    mine = make_chat(make_workspace("a", member=alice), telegram_id=-1001)
    other_workspace_chat = make_chat(make_workspace("b"), telegram_id=-1002)
    headers = headers_for(alice)

    def send_events():
        events.publish("message_scored", chat_id=other_workspace_chat.pk, message_id=1, score=0.5)
        events.publish("message_scored", chat_id=mine.pk, message_id=2, score=0.9)
        assert publisher.flush()

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/chats/{mine.pk}/", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        assert connected, code
        snapshot = await communicator.receive_json_from(timeout=5)
        assert snapshot["type"] == "chat.snapshot" and snapshot["chat_id"] == mine.pk
        await sync_to_async(send_events)()
        event = await communicator.receive_json_from(timeout=5)
        # The foreign chat's event, sent first, never arrives: the next one is ours.
        assert (event["type"], event["chat_id"], event["message_id"]) == ("message_scored", mine.pk, 2)
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_chat_of_another_workspace_answers_like_an_unknown_one():
    alice = member("alice")
    make_workspace("a", member=alice)
    foreign = make_chat(make_workspace("b"))
    assert close_code(f"/ws/chats/{foreign.pk}/", headers_for(alice)) == (True, UNKNOWN_RUN)
    assert close_code("/ws/chats/999999/", headers_for(alice)) == (True, UNKNOWN_RUN)
    assert close_code(f"/ws/chats/{foreign.pk}/", headers_for(None)) == (True, NOT_AUTHENTICATED)


def test_the_chat_streams_access_check_is_allowed_alone():
    """Like every LiveConsumer: allowed() decides, start() only joins; a refusal reads "unknown"."""
    alice = member("alice")
    mine = make_chat(make_workspace("a", member=alice), telegram_id=-1001)
    foreign = make_chat(make_workspace("b"), telegram_id=-1002)

    def allowed(chat_id):
        consumer = ChatConsumer()
        consumer.scope = {"url_route": {"kwargs": {"chat_id": chat_id}}}
        return consumer.allowed(alice)

    assert allowed(mine.pk) and not allowed(foreign.pk) and not allowed(999999)
    assert ChatConsumer.refused_code == UNKNOWN_RUN


def test_a_member_may_watch_the_run_of_their_own_import_and_no_other():
    alice = member("alice")
    mine, theirs = make_workspace("a", member=alice), make_workspace("b")
    own_run, foreign_run = uuid.uuid4(), uuid.uuid4()
    MessageIngestionJob.objects.create(workspace=mine, run_id=str(own_run))
    MessageIngestionJob.objects.create(workspace=theirs, run_id=str(foreign_run))
    # The run rows do not exist in the ledger: the member passes the check and meets "unknown run".
    assert close_code(f"/ws/runs/{own_run}/", headers_for(alice)) == (True, UNKNOWN_RUN)
    assert close_code(f"/ws/runs/{foreign_run}/", headers_for(alice)) == (True, NOT_ALLOWED)
    assert close_code(f"/ws/runs/{uuid.uuid4()}/", headers_for(alice)) == (True, NOT_ALLOWED)
    assert close_code("/ws/dashboard/", headers_for(alice)) == (True, NOT_ALLOWED)


def test_the_posts_stream_carries_the_members_workspaces_only():
    from memory.posts.events import posts_group

    alice = member("alice")
    mine, theirs = make_workspace("a", member=alice), make_workspace("b")
    headers = headers_for(alice)

    def send_events():
        live.publish("posts.tagged", extra_groups=(posts_group(theirs.pk),), post_id=1, workspace_id=theirs.pk)
        live.publish("posts.tagged", extra_groups=(posts_group(mine.pk),), post_id=2, workspace_id=mine.pk)
        assert publisher.flush()

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/posts/", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        assert connected, code
        snapshot = await communicator.receive_json_from(timeout=5)
        assert snapshot == {**snapshot, "type": "posts.snapshot", "workspaces": [mine.pk]}
        await sync_to_async(send_events)()
        event = await communicator.receive_json_from(timeout=5)
        assert (event["type"], event["post_id"]) == ("posts.tagged", 2)
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    async_to_sync(scenario)()
    assert close_code("/ws/posts/", headers_for(None)) == (True, NOT_AUTHENTICATED)
