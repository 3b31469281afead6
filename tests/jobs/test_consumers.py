"""Live progress over WebSockets: who may watch, what watchers see, and how progress is throttled.

Everything is real: the ASGI app with its origin check and session auth, the channels_redis
layer on the session's Redis, and an in-process EngramWorker publishing through jobs.live.
"""

import math
import time
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.tasks import task
from django.test import Client

from jobs import RetryPolicy, live
from jobs.consumers import NOT_ALLOWED, NOT_AUTHENTICATED, UNKNOWN_RUN
from jobs.models import JobRun
from jobs.samples import returns_42, slow_with_progress
from jobs.signals import run_progress, run_status_changed
from project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
FINAL_EVENTS = ("completed", "failed", "cancelled")


@task(kind="ingestion", retry=RetryPolicy.fixed(2, 0))
def ingestion_that_fails():
    """Fail both attempts, as a task of its own event kind."""
    raise ValueError("the export is corrupt")


# --- the cast and the plumbing ------------------------------------------------------------


def make_user(username, *, staff=True, can_view=True, superuser=False):
    user = User.objects.create_user(username, password="not-used", is_staff=staff, is_superuser=superuser)
    if can_view:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename="view_jobrun"))
    return user


def headers_for(user, origin=ORIGIN):
    """WebSocket handshake headers: an origin and, for a user, a logged-in session cookie."""
    headers = [origin] if origin else []
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


async def open_socket(path, headers):
    """Connect an accepted watcher and return it with its first message (the snapshot)."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"refused with {code}"
    return communicator, await communicator.receive_json_from(timeout=5)


async def receive_until(communicator, is_last, timeout=15):
    """Collect events until `is_last(event)` holds; fail at the deadline."""
    deadline = time.monotonic() + timeout
    events = []
    while not events or not is_last(events[-1]):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout}s; received {[e['type'] for e in events]}")
        events.append(await communicator.receive_json_from(timeout=remaining))
    return events


def is_final_event_of(run_id):
    return lambda event: event.get("run_id") == str(run_id) and event["type"].endswith(FINAL_EVENTS)


def close_code(path, headers):
    """The code the server closes a new socket with; None if it stayed open."""

    async def attempt():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect(timeout=5)
        if connected:
            # Refusals accept first so that browsers get the code; then the close follows.
            message = await communicator.receive_output(timeout=5)
            code = message["code"] if message["type"] == "websocket.close" else None
        await communicator.disconnect()
        return connected, code

    return async_to_sync(attempt)()


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


# --- who may watch ----------------------------------------------------------------------


def test_anonymous_visitors_are_closed_with_4401():
    run_id = returns_42.enqueue().id
    assert close_code(f"/ws/runs/{run_id}/", headers_for(None)) == (True, NOT_AUTHENTICATED)
    assert close_code("/ws/dashboard/", headers_for(None)) == (True, NOT_AUTHENTICATED)


def test_users_who_are_not_staff_are_closed_with_4403_even_with_the_permission():
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("outsider", staff=False))
    assert close_code(f"/ws/runs/{run_id}/", headers) == (True, NOT_ALLOWED)
    assert close_code("/ws/dashboard/", headers) == (True, NOT_ALLOWED)


def test_staff_without_the_view_permission_are_closed_with_4403():
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("clerk", can_view=False))
    assert close_code(f"/ws/runs/{run_id}/", headers) == (True, NOT_ALLOWED)
    assert close_code("/ws/dashboard/", headers) == (True, NOT_ALLOWED)


def test_an_unknown_run_is_closed_with_4404():
    assert close_code(f"/ws/runs/{uuid.uuid4()}/", headers_for(make_user("viewer"))) == (True, UNKNOWN_RUN)


def test_a_page_on_another_site_cannot_open_a_socket_with_the_session():
    viewer = make_user("viewer")
    run_id = returns_42.enqueue().id
    foreign = headers_for(viewer, origin=(b"origin", b"https://evil.example"))
    # Refused in the handshake (the origin validator), before any consumer code runs.
    assert close_code(f"/ws/runs/{run_id}/", foreign)[0] is False
    assert close_code("/ws/dashboard/", foreign)[0] is False
    assert close_code("/ws/dashboard/", headers_for(viewer, origin=None))[0] is False


def test_superusers_may_watch_without_an_explicit_permission():
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("root", can_view=False, superuser=True))

    async def scenario():
        communicator, snapshot = await open_socket(f"/ws/runs/{run_id}/", headers)
        await communicator.disconnect()
        return snapshot

    assert async_to_sync(scenario)()["run_id"] == str(run_id)


# --- what watchers see ------------------------------------------------------------------


def test_a_watcher_gets_the_snapshot_then_live_progress_and_the_completion(work):
    run_id = slow_with_progress.enqueue(total=20, delay=0.05).id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator, snapshot = await open_socket(f"/ws/runs/{run_id}/", headers)
        await sync_to_async(work)()  # in the main thread: RQ installs signal handlers
        events = await receive_until(communicator, is_final_event_of(run_id))
        await communicator.disconnect()
        return snapshot, events

    snapshot, events = async_to_sync(scenario)()
    assert snapshot["type"] == "run.snapshot"
    assert (snapshot["run_id"], snapshot["status"], snapshot["status_label"], snapshot["task"]) == (
        str(run_id), "queued", "Queued", "jobs.samples.slow_with_progress")
    types = [event["type"] for event in events]
    assert types[0] == "job.started" and types[-1] == "job.completed"
    progress = [event for event in events if event["type"] == "job.progress"]
    assert len(progress) >= 2, "a one-second run reports more than once"
    assert [event["done"] for event in progress] == sorted(event["done"] for event in progress)
    assert (progress[-1]["done"], progress[-1]["total"], progress[-1]["fraction"]) == (20, 20, 1.0)
    assert progress[-1]["message"] == "item 20 of 20"
    completed = events[-1]
    assert (completed["status"], completed["status_label"], completed["done"], completed["total"]) == (
        "succeeded", "Succeeded", 20, 20)
    assert completed["started_at"] and completed["finished_at"] and "error_type" not in completed


def test_failures_are_failed_events_of_the_tasks_kind_that_say_whether_another_attempt_comes(work):
    run_id = ingestion_that_fails.enqueue().id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator, _ = await open_socket(f"/ws/runs/{run_id}/", headers)
        await sync_to_async(work)()  # the retry has no delay: the same burst runs both attempts
        events = await receive_until(communicator, lambda event: event.get("status") == "dead")
        await communicator.disconnect()
        return events

    events = async_to_sync(scenario)()
    assert [event["type"] for event in events] == [
        "ingestion.started", "ingestion.failed", "ingestion.started", "ingestion.failed"]
    retried, dead = events[1], events[3]
    assert (retried["status"], retried["will_retry"], retried["attempt"]) == ("failed", True, 1)
    assert retried["retry_at"] is not None
    assert (dead["status"], dead["will_retry"], dead["attempt"]) == ("dead", False, 2)
    for failed in (retried, dead):
        assert (failed["error_type"], failed["error_message"]) == ("builtins.ValueError", "the export is corrupt")


def test_the_dashboard_shows_queue_depths_and_every_runs_events(work, monkeypatch):
    run_id = returns_42.enqueue().id
    headers = headers_for(make_user("viewer"))
    # Queue depths go out at most every two seconds per process; an earlier test may have just sent one.
    monkeypatch.setattr(live.live_events, "_depths_sent_at", -math.inf)

    async def scenario():
        communicator, snapshot = await open_socket("/ws/dashboard/", headers)
        await sync_to_async(work)()
        events = await receive_until(communicator, is_final_event_of(run_id))
        await communicator.disconnect()
        return snapshot, events

    snapshot, events = async_to_sync(scenario)()
    assert snapshot["type"] == "dashboard.snapshot" and snapshot["runs"] == []
    assert snapshot["queues"]["default.normal"] == 1 and sum(snapshot["queues"].values()) == 1
    assert [event["type"] for event in events if event.get("run_id") == str(run_id)] == [
        "job.started", "job.completed"]
    depths = [event for event in events if event["type"] == "queues.depth"]
    assert depths and depths[0]["queues"]["default.normal"] == 0  # the worker had taken the job


# --- throttling and failure -------------------------------------------------------------


def test_ten_thousand_rapid_reports_become_a_handful_of_events_and_the_last_is_kept(monkeypatch, settings):
    settings.JOBS_LIVE_EVENT_INTERVAL_SECONDS = 0.2
    clock = Clock()
    monkeypatch.setattr(live.live_events, "clock", clock)
    run, attempt = JobRun.claim(returns_42.enqueue().id, "w", "h", 1)
    headers = headers_for(make_user("viewer"))

    def report_ten_thousand_items():
        run_status_changed.send(sender=JobRun, run=run, status="started")
        for done in range(1, 10_001):
            clock.now += 2.0 / 10_000  # ten thousand items in two simulated seconds
            run_progress.send(sender=JobRun, run=run, done=done, total=10_000, message=f"item {done}")
        # What the runner does with the last report: write it with the outcome, then announce.
        run.mark_succeeded(attempt, 42, progress=(10_000, 10_000, "item 10000"))
        run_status_changed.send(sender=JobRun, run=run, status="succeeded")

    async def scenario():
        communicator, _ = await open_socket(f"/ws/runs/{run.pk}/", headers)
        await sync_to_async(report_ten_thousand_items)()
        events = await receive_until(communicator, is_final_event_of(run.pk))
        await communicator.disconnect()
        return events

    events = async_to_sync(scenario)()
    progress = [event for event in events if event["type"] == "job.progress"]
    # One per 200 ms of the two seconds, plus the held-back last one flushed before the status.
    assert 10 <= len(progress) <= 12, [event["done"] for event in progress]
    assert progress[0]["done"] == 1
    assert (progress[-1]["done"], progress[-1]["message"], progress[-1]["fraction"]) == (10_000, "item 10000", 1.0)
    assert [event["type"] for event in events[-2:]] == ["job.progress", "job.completed"]
    assert events[-1]["done"] == 10_000


def test_status_events_are_never_throttled_and_flush_the_held_back_report(monkeypatch, settings):
    settings.JOBS_LIVE_EVENT_INTERVAL_SECONDS = 3600
    monkeypatch.setattr(live.live_events, "clock", Clock())  # time stands still
    run, attempt = JobRun.claim(returns_42.enqueue().id, "w", "h", 1)
    headers = headers_for(make_user("viewer"))

    def two_attempts():
        for outcome in ("failed", "dead"):
            run_status_changed.send(sender=JobRun, run=run, status="started")
            run_progress.send(sender=JobRun, run=run, done=1, total=2, message="first")
            run_progress.send(sender=JobRun, run=run, done=2, total=2, message="second")
            run_status_changed.send(sender=JobRun, run=run, status=outcome)

    async def scenario():
        communicator, _ = await open_socket(f"/ws/runs/{run.pk}/", headers)
        await sync_to_async(two_attempts)()
        events = await receive_until(communicator, lambda event: event.get("will_retry") is False)
        await communicator.disconnect()
        return events

    events = async_to_sync(scenario)()
    # Per attempt: the first report goes out, the second is held and flushed before the outcome.
    assert [(event["type"], event.get("done"), event.get("will_retry")) for event in events] == [
        ("job.started", 0, None), ("job.progress", 1, None), ("job.progress", 2, None), ("job.failed", 0, True),
        ("job.started", 0, None), ("job.progress", 1, None), ("job.progress", 2, None), ("job.failed", 0, False),
    ]


def test_an_unreachable_channel_layer_never_fails_a_job(work, settings, caplog):
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [f"unix://{settings.VAR_DIR}/no-such-redis.sock"]},
    }}
    run_id = slow_with_progress.enqueue(total=3, delay=0.01).id
    work()
    assert live.publisher.flush(timeout=30), "undeliverable events must be given up, not pile up"
    assert JobRun.objects.get(pk=run_id).status == "succeeded"
    assert live.publisher.failing
    assert "the channel layer refused a message" in caplog.text
