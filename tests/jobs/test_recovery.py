"""Recovery that covers every gap between the ledger and Redis, and a worker that outlives outages."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobRun, Worker
from jobs.queues import get_redis, get_rq_queue
from jobs.reconcile import redispatch_forgotten
from jobs.runner import WorkerSession
from jobs.samples import noop, returns_42, sleeps
from jobs.signals import run_status_changed

pytestmark = pytest.mark.django_db(transaction=True)


def later(settings):
    """A reconcile time after the dispatch grace: the run counts as settled in Redis by then."""
    return timezone.now() + timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS + 1)


def rq_job(run):
    return Job.fetch(run.rq_job_id, connection=get_redis(), serializer=JSONSerializer)


def pop(run):
    """Take the run's job off its list, as a worker's dequeue does."""
    queue = get_rq_queue(run.rq_queue_name)
    assert get_redis().lrem(queue.key, 1, run.rq_job_id) == 1


def assert_dispatched_again(run, settings, work):
    first_job_id = run.rq_job_id
    assert redispatch_forgotten(now=later(settings)) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.rq_job_id != first_job_id
    assert get_rq_queue(run.rq_queue_name).job_ids == [run.rq_job_id]
    work()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempt == 1


@pytest.mark.parametrize("rq_status", [JobStatus.FAILED, JobStatus.FINISHED])
def test_a_queued_run_whose_rq_job_ended_in_a_registry_is_dispatched_again(rq_status, settings, work):
    # A claim that failed while Postgres restarted left RQ's hash "failed" for 24 h: it exists,
    # so checking for its existence alone never looked again.
    run = JobRun.objects.get(pk=noop.enqueue().id)
    pop(run)
    job = rq_job(run)
    job.set_status(rq_status)
    registry = job.failed_job_registry if rq_status == JobStatus.FAILED else job.finished_job_registry
    registry.add(job, ttl=86400)
    assert_dispatched_again(run, settings, work)


def test_a_run_popped_by_a_worker_that_died_before_claiming_is_dispatched_again(settings, work):
    run = JobRun.objects.get(pk=noop.enqueue().id)
    pop(run)  # SIGKILLed right after its dequeue: RQ's hash still says "queued", no list has it
    assert_dispatched_again(run, settings, work)


def test_a_run_started_in_rq_by_a_dead_worker_is_dispatched_again(settings, work):
    run = JobRun.objects.get(pk=noop.enqueue().id)
    pop(run)
    get_redis().hset(Job.key_for(run.rq_job_id), mapping={"status": JobStatus.STARTED, "worker_name": "ghost"})
    assert_dispatched_again(run, settings, work)


def test_a_run_popped_by_a_live_worker_or_still_listed_is_left_alone(settings):
    listed = JobRun.objects.get(pk=noop.enqueue().id)
    taken = JobRun.objects.get(pk=noop.enqueue().id)
    pop(taken)
    Worker.register("busy", "host", 1, ["default"])
    get_redis().hset(Job.key_for(taken.rq_job_id), mapping={"status": JobStatus.STARTED, "worker_name": "busy"})
    delayed = JobRun.objects.get(pk=noop.using(run_after=timezone.now() + timedelta(hours=1)).enqueue().id)
    assert delayed.status == RunStatus.SCHEDULED
    assert redispatch_forgotten(now=later(settings)) == 0
    assert [JobRun.objects.get(pk=r.pk).dispatches for r in (listed, taken, delayed)] == [1, 1, 1]


def test_a_scheduled_run_missing_from_the_scheduled_registry_is_dispatched_again(settings):
    run = JobRun.objects.get(pk=noop.using(run_after=timezone.now() + timedelta(hours=1)).enqueue().id)
    get_rq_queue(run.rq_queue_name).scheduled_job_registry.remove(run.rq_job_id)
    assert redispatch_forgotten(now=later(settings)) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.SCHEDULED and run.dispatches == 2
    assert run.rq_job_id in get_rq_queue(run.rq_queue_name).scheduled_job_registry.get_job_ids()


def test_a_redis_restart_during_dispatch_loses_no_run(services, settings, work):
    # Half the batch reached Redis before it went down; the other half stays in the outbox.
    first = [noop.enqueue().id for _ in range(3)]
    services.stop_redis()
    try:
        second = [noop.enqueue().id for _ in range(3)]
    finally:
        services.start_redis()
    assert {JobRun.objects.get(pk=pk).status for pk in second} == {RunStatus.PENDING}
    from jobs.reconcile import reconcile

    reconcile(now=later(settings))
    work()
    assert {JobRun.objects.get(pk=pk).status for pk in first + second} == {RunStatus.SUCCEEDED}


def test_the_embedded_redis_keeps_its_data_across_a_crash(services):
    redis = get_redis()
    redis.set("engram:test:aof", "kept")
    time.sleep(1.2)  # appendfsync everysec
    os.kill(services._redis_pid(), signal.SIGKILL)  # no shutdown save: only the append-only file has it
    deadline = time.monotonic() + 10
    while services._redis_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    services.redis_socket.unlink(missing_ok=True)
    services.start_redis()
    assert redis.get("engram:test:aof") == b"kept"


# --- the worker's side ----------------------------------------------------------------------


def test_each_outcome_is_in_the_ledger_before_the_worker_claims_its_next_run(work):
    first, second = returns_42.enqueue().id, returns_42.enqueue().id
    seen = []

    def on_status(sender, run, status, **kwargs):
        if status == "started" and str(run.pk) == second:
            seen.append(JobRun.objects.get(pk=first).status)

    run_status_changed.connect(on_status)
    try:
        work()
    finally:
        run_status_changed.disconnect(on_status)
    assert seen == [RunStatus.SUCCEEDED]


def test_status_changes_are_announced_with_the_status_they_replaced(work):
    changes = []
    run_status_changed.connect(on := lambda sender, run, status, old_status, **kw: changes.append((old_status, status)))
    try:
        noop.enqueue()
        work()
    finally:
        run_status_changed.disconnect(on)
    assert changes == [(None, "started"), (RunStatus.RUNNING, "succeeded")]


def kill_backend_of(conn):
    """Terminate the Postgres session behind `conn` from another session (a restart, for it)."""
    pid = conn.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def test_a_success_meeting_a_broken_connection_is_written_on_a_new_one(caplog):
    run_id = sleeps.enqueue(0.5).id
    session = WorkerSession("w1", "host", os.getpid())
    connection.ensure_connection()
    # The wrapper object itself: `connection` would be the timer thread's own connection.
    timer = threading.Timer(0.2, kill_backend_of, [connections["default"]])
    timer.start()  # while the task sleeps: its success write meets a dead session
    try:
        assert session.execute(run_id)["status"] == RunStatus.SUCCEEDED
    finally:
        timer.join()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert list(run.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.SUCCEEDED]
    assert "database unavailable" in caplog.text


def test_a_claim_repeated_after_a_lost_reply_finds_its_own_claim():
    run_id = noop.enqueue().id
    now = timezone.now()
    first = JobRun.claim(run_id, "w1", "host", 7, now=now)
    again = JobRun.claim(run_id, "w1", "host", 7, now=now)
    assert first is not None and again is not None and again[0].attempt == first[0].attempt == 1
    assert JobRun.claim(run_id, "w2", "host", 8, now=now) is None
    assert JobRun.claim(run_id, "w1", "host", 7) is None  # another claim of ours, not a repeat


def test_a_session_waits_for_the_database_instead_of_giving_up(monkeypatch):
    from django.db import OperationalError

    session = WorkerSession("w1", "host", os.getpid())
    monkeypatch.setattr("jobs.runner.RETRY_FIRST_SECONDS", 0.01)
    calls = []

    def write():
        calls.append(1)
        if len(calls) < 4:
            raise OperationalError("the database system is starting up")
        return False

    # The fourth try answers "not won", but an earlier one may have committed: recheck decides.
    assert session.durably(write, recheck=lambda: "recorded earlier") == "recorded earlier"
    assert len(calls) == 4


def test_a_claim_commits_without_waiting_for_its_flush_but_leaves_the_session_durable():
    from django.db import connection

    run_id = noop.enqueue().id
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO on")  # production's setting (the test cluster's is off)
        try:
            assert JobRun.claim(run_id, "w1", "host", 7) is not None
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # the setting lasted for the claim's own transaction only
        finally:
            cursor.execute("RESET synchronous_commit")
    with CaptureQueriesContext(connection) as queries:
        JobRun.claim(noop.enqueue().id, "w1", "host", 7)
    assert "set_config('synchronous_commit', 'off', true)" in queries[-1]["sql"]
