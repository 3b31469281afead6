"""Cancellation, lost-worker recovery and reconciliation after Redis forgets."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs import AttemptOutcome, RunStatus
from jobs.control import cancel_run, retry_run
from jobs.models import JobRun, Worker
from jobs.queues import get_redis, get_rq_queue
from jobs.reconcile import enforce_cancellations, reconcile, recover_lost_runs, redispatch_forgotten
from jobs.samples import fails_n_times, noop, returns_42, slow_with_progress

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds=60):
    return timezone.now() + timedelta(seconds=seconds)


def test_cancelling_a_queued_run_removes_it_from_rq(work):
    run = JobRun.objects.get(pk=noop.enqueue().id)
    assert cancel_run(run) == "cancelled"
    assert get_rq_queue("default.normal").count == 0
    work()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.attempt == 0


def test_cancelling_a_scheduled_run_removes_it_from_the_scheduled_registry():
    run = JobRun.objects.get(pk=noop.using(run_after=later(3600)).enqueue().id)
    assert cancel_run(run) == "cancelled"
    assert get_rq_queue("default.normal").scheduled_job_registry.count == 0
    assert cancel_run(run) is None  # nothing left to cancel


def _cancel_when_running(run_id, outcome):
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            run = JobRun.objects.get(pk=run_id)
            if run.status == RunStatus.RUNNING and run.progress_done >= 2:
                outcome.append(cancel_run(run))
                return
            time.sleep(0.01)
    finally:
        connection.close()


def test_a_running_run_stops_at_its_next_progress_report_and_is_never_retried(work, settings):
    settings.JOBS_PROGRESS_INTERVAL_SECONDS = 0
    run_id = slow_with_progress.enqueue(total=200, delay=0.02).id
    JobRun.objects.filter(pk=run_id).update(max_attempts=3, retry_policy={"max_attempts": 3, "base": 0})
    outcome = []
    canceller = threading.Thread(target=_cancel_when_running, args=(run_id, outcome))
    canceller.start()
    work()
    canceller.join()
    run = JobRun.objects.get(pk=run_id)
    assert outcome == ["requested"]
    assert run.status == RunStatus.CANCELLED
    assert run.progress_done < 200
    assert run.attempt == 1 and run.attempts.get().outcome == AttemptOutcome.CANCELLED


def test_an_overdue_cancel_sends_rqs_stop_job_to_the_worker(settings):
    run_id = returns_42.enqueue().id
    run, _ = JobRun.claim(run_id, "worker-x", "host", 1)
    pubsub = get_redis().pubsub()
    pubsub.subscribe("rq:pubsub:worker-x")
    pubsub.get_message(timeout=1)
    run.request_cancel()
    assert enforce_cancellations(now=later(settings.JOBS_CANCEL_GRACE_SECONDS - 1)) == 0
    assert enforce_cancellations(now=later(settings.JOBS_CANCEL_GRACE_SECONDS + 1)) == 1
    message = pubsub.get_message(timeout=2)
    assert b'"stop-job"' in message["data"] and run.rq_job_id.encode() in message["data"]


def test_a_run_whose_worker_stopped_heartbeating_is_retried(settings):
    run_id = fails_n_times.enqueue("lost", 0).id
    Worker.register("dead-worker", "host", 1, ["default.normal"])
    run, _ = JobRun.claim(run_id, "dead-worker", "host", 1)
    assert recover_lost_runs() == 0  # heartbeat still fresh
    assert recover_lost_runs(now=later(settings.JOBS_WORKER_TIMEOUT_SECONDS + 1)) == 1
    run.refresh_from_db()
    attempt = run.attempts.get()
    assert attempt.outcome == AttemptOutcome.WORKER_LOST
    assert attempt.error_type == "jobs.exceptions.WorkerLost"
    assert run.status in (RunStatus.QUEUED, RunStatus.SCHEDULED)


def test_a_run_its_live_worker_is_not_running_is_retried(settings):
    run_id = fails_n_times.enqueue("orphan", 0).id
    Worker.register("live-worker", "host", 1, ["default.normal"])
    # The claim committed, but the worker never learnt it (its connection broke before the reply).
    run, _ = JobRun.claim(run_id, "live-worker", "host", 1)
    when = later(settings.JOBS_WORKER_TIMEOUT_SECONDS + 1)
    Worker.objects.filter(name="live-worker").update(heartbeat_at=when, current_run=None)
    assert recover_lost_runs(now=when) == 1
    run.refresh_from_db()
    attempt = run.attempts.get()
    assert attempt.outcome == AttemptOutcome.WORKER_LOST
    assert attempt.error_message == "worker live-worker is alive but not running this attempt"
    assert run.status in (RunStatus.QUEUED, RunStatus.SCHEDULED)


def test_a_long_run_its_live_worker_is_running_is_left_alone(settings):
    run_id = returns_42.enqueue().id
    Worker.register("busy-worker", "host", 1, ["default.normal"])
    run, _ = JobRun.claim(run_id, "busy-worker", "host", 1)
    when = later(3600)
    Worker.objects.filter(name="busy-worker").update(heartbeat_at=when, current_run=run)
    assert recover_lost_runs(now=when) == 0
    assert JobRun.objects.get(pk=run_id).status == RunStatus.RUNNING


def test_a_lost_run_that_was_asked_to_cancel_ends_cancelled():
    run_id = returns_42.enqueue().id
    run, _ = JobRun.claim(run_id, "gone-worker", "host", 1)
    run.request_cancel()
    assert recover_lost_runs(now=later(120)) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_after_a_redis_flush_the_reconciler_redispatches_every_waiting_run(work):
    queued = [noop.enqueue().id for _ in range(3)]
    scheduled = noop.using(run_after=later(3600)).enqueue().id
    get_redis().flushdb()
    assert redispatch_forgotten() == 0  # within the grace period nothing is touched
    assert redispatch_forgotten(now=later()) == 4
    assert get_rq_queue("default.normal").count == 3
    assert get_rq_queue("default.normal").scheduled_job_registry.count == 1
    assert JobRun.objects.get(pk=scheduled).status == RunStatus.SCHEDULED
    work()
    assert JobRun.objects.filter(pk__in=queued, status=RunStatus.SUCCEEDED).count() == 3


def test_reconcile_reports_every_step():
    report = reconcile()
    assert set(report) == {"dispatched", "recovered", "redispatched", "stop_requests"}


def test_a_manual_retry_is_a_new_run_linked_to_the_original(work):
    original = JobRun.objects.get(pk=returns_42.enqueue().id)
    work()
    again = JobRun.objects.get(pk=retry_run(original).id)
    assert again.pk != original.pk and again.retry_of_id == original.pk and again.trigger == "retry"
