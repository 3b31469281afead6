"""Hostile WebSocket clients: malformed and oversized frames, subscriptions beyond their rights.

The real ASGI application (origin check, session auth) and the Redis channel layer, as in
tests/jobs/test_consumers.py, whose helpers these tests share.
"""

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from jobs.consumers import MAX_FRAME_BYTES, MESSAGE_TOO_BIG, NOT_ALLOWED, NOT_AUTHENTICATED
from jobs.live import DASHBOARD_GROUP, MESSAGE_TYPE, run_group
from jobs.samples import returns_42
from memory.models import Membership
from project.asgi import application
from tests.jobs.test_consumers import close_code, headers_for, make_user
from tests.memory.factories import make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

MALFORMED = [
    {"text_data": "not json {"}, {"text_data": " "}, {"text_data": "\udcff"}, {"bytes_data": b"\x00\xff\xfe"},
    {"text_data": "[1, 2, 3]"}, {"text_data": '{"type": 5, "run_id": []}'}, {"text_data": '"subscribe"'},
    {"text_data": '{"type": "subscribe", "group": "dashboard"}'}, {"text_data": "[" * 2000 + "]" * 2000},
    {"bytes_data": b"x" * MAX_FRAME_BYTES},
]


def event(run_id, name="job.progress"):
    return {"type": MESSAGE_TYPE, "events": [{"type": name, "run_id": str(run_id), "done": 1}]}


async def publish(group, message):
    await get_channel_layer().group_send(group, message)


async def open_socket(path, headers):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"refused with {code}"
    await communicator.receive_json_from(timeout=5)  # the snapshot
    return communicator


def test_malformed_frames_are_ignored_and_the_stream_goes_on():
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator = await open_socket(f"/ws/runs/{run_id}/", headers)
        for frame in MALFORMED:
            await communicator.send_to(**frame)
        assert await communicator.receive_nothing(timeout=0.5), "nothing is answered to a client's frame"
        await publish(run_group(run_id), event(run_id))
        received = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return received

    assert async_to_sync(scenario)() == {"type": "job.progress", "run_id": str(run_id), "done": 1}


@pytest.mark.parametrize("frame", [{"text_data": "x" * (MAX_FRAME_BYTES + 1)},
                                   {"text_data": "é" * (MAX_FRAME_BYTES // 2 + 1)},
                                   {"bytes_data": b"\x00" * (1024 * 1024)}], ids=["text", "utf-8", "binary"])
def test_an_oversized_frame_closes_the_socket_with_1009_and_the_next_socket_works(frame):
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator = await open_socket(f"/ws/runs/{run_id}/", headers)
        await communicator.send_to(**frame)
        closed = await communicator.receive_output(timeout=5)
        await communicator.disconnect()  # the client's answer to the close; raises if the consumer crashed
        again = await open_socket("/ws/dashboard/", headers)
        await again.disconnect()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": MESSAGE_TOO_BIG}


def test_members_of_a_workspace_cannot_watch_another_workspaces_runs_nor_the_dashboard():
    """Neither a member of A, nor B's owner holding jobs.view_jobrun without staff, nor staff of A
    without the permission, watches a run that is not theirs or the dashboard."""
    member_a = make_user("member-a", staff=False, can_view=False)
    owner_b = make_user("owner-b", staff=False, can_view=True)  # even holding the permission
    workspace_a = make_workspace("a", member=member_a)
    make_project(workspace_a)
    workspace_b = make_workspace("b", member=owner_b)
    Membership.objects.filter(workspace=workspace_b).update(role=Membership.Role.OWNER)
    staff_of_a = make_user("staff-a", staff=True, can_view=False)
    Membership.objects.create(workspace=workspace_a, user=staff_of_a)
    run_of_b = returns_42.enqueue().id  # say, B's chat import
    for user in (member_a, owner_b, staff_of_a):
        assert close_code(f"/ws/runs/{run_of_b}/", headers_for(user)) == (True, NOT_ALLOWED), user
        assert close_code("/ws/dashboard/", headers_for(user)) == (True, NOT_ALLOWED), user
    assert close_code(f"/ws/runs/{run_of_b}/", headers_for(None)) == (True, NOT_AUTHENTICATED)


def test_a_watcher_of_one_run_cannot_subscribe_to_another_by_asking():
    watched, other = returns_42.enqueue().id, returns_42.enqueue().id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator = await open_socket(f"/ws/runs/{watched}/", headers)
        for ask in ({"type": "subscribe", "group": run_group(other)}, {"run_id": str(other)},
                    {"type": "group_add", "group": DASHBOARD_GROUP}, {"type": "live.events", "events": []}):
            await communicator.send_json_to(ask)
        await publish(run_group(other), event(other))
        await publish(run_group(uuid.uuid4()), event("someone-else"))
        leaked = not await communicator.receive_nothing(timeout=1)
        await publish(run_group(watched), event(watched))
        received = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return leaked, received

    leaked, received = async_to_sync(scenario)()
    assert not leaked, "an event of another run reached the socket"
    assert received["run_id"] == str(watched)
