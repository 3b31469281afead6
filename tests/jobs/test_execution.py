"""Running tasks through real in-process RQ workers: outcomes, retries, limits, progress, chains."""

import time
from datetime import timedelta

import pytest
from django.tasks import default_task_backend
from django.utils import timezone

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobRun, Worker
from jobs.queues import get_redis, get_rq_queue
from jobs.samples import (
    always_fails, big_result, echo, fails_n_times, fails_once_then_waits, fails_with, overruns_soft_limit,
    returns_42, returns_not_json, slow_with_progress, spawns_children,
)
from jobs.signals import run_progress, run_status_changed
from tests.conftest import make_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_succeeds_and_its_result_comes_from_the_ledger_after_a_redis_flush(work):
    run_id = returns_42.enqueue().id
    work()
    get_redis().flushdb()
    result = returns_42.get_result(run_id)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 42
    assert default_task_backend.get_result(run_id).return_value == 42
    run = JobRun.objects.get(pk=run_id)
    assert run.started_at <= run.finished_at and run.worker_name


def test_each_attempt_is_kept_with_its_worker_and_error(work):
    run_id = fails_n_times.enqueue("history", 2).id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.result == 3
    attempts = list(run.attempts.all())
    assert [a.outcome for a in attempts] == ["failed", "failed", "succeeded"]
    assert attempts[0].error_type == "builtins.RuntimeError"
    assert "planned failure 1 of 2" in attempts[0].error_message
    assert "Traceback" in attempts[0].traceback
    assert all(a.worker_name and a.finished_at >= a.started_at for a in attempts)
    result = fails_n_times.get_result(run_id)
    assert result.attempts == 3 and len(result.errors) == 2


def test_a_failed_attempt_is_scheduled_after_its_backoff_and_then_dies_after_the_last(work):
    run_id = always_fails.enqueue().id
    work()
    run = JobRun.objects.get(pk=run_id)
    first = run.attempts.get(number=1)
    assert run.status == RunStatus.SCHEDULED  # waiting in RQ's scheduled registry
    assert (run.run_after - first.finished_at).total_seconds() == pytest.approx(60, abs=0.01)
    scheduled = get_rq_queue(run.rq_queue_name).scheduled_job_registry
    assert scheduled.get_scheduled_time(run.rq_job_id).timestamp() == pytest.approx(run.run_after.timestamp(), abs=1)

    make_due(run)
    work(with_scheduler=True)
    run.refresh_from_db()
    second = run.attempts.get(number=2)
    assert run.status == RunStatus.SCHEDULED
    assert (run.run_after - second.finished_at).total_seconds() == pytest.approx(300, abs=0.01)

    make_due(run)
    work(with_scheduler=True)
    run.refresh_from_db()
    assert run.status == RunStatus.DEAD
    assert run.attempt == run.max_attempts == 3
    assert run.error_type == "builtins.ValueError" and run.finished_at
    assert list(run.attempts.values_list("outcome", flat=True)) == ["failed"] * 3


def test_the_retry_runs_at_its_time_through_rqs_scheduler(work):
    run_id = fails_once_then_waits.enqueue("real-time").id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SCHEDULED
    deadline = time.monotonic() + 10
    # RQ's scheduler compares whole seconds: a job due at 12.5 moves once the clock reads 13.
    while timezone.now() < run.run_after + timedelta(seconds=1) and time.monotonic() < deadline:
        time.sleep(0.05)
    work(with_scheduler=True)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.result == "second attempt"


def test_errors_outside_retry_on_are_not_retried(work):
    retried = fails_with.enqueue("ConnectionError").id
    not_retried = fails_with.enqueue("KeyError").id
    work()
    assert JobRun.objects.get(pk=retried).attempt == 3
    run = JobRun.objects.get(pk=not_retried)
    assert run.status == RunStatus.DEAD and run.attempt == 1


def test_the_soft_time_limit_raises_inside_the_task_so_it_can_clean_up(work):
    run_id = overruns_soft_limit.enqueue(seconds=5).id
    started = time.monotonic()
    work()
    assert time.monotonic() - started < 4
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.DEAD
    assert run.error_type == "jobs.exceptions.SoftTimeLimitExceeded"
    assert run.attempts.get().outcome == AttemptOutcome.SOFT_TIME_LIMIT
    assert get_redis().get("engram:samples:soft_cleanup") == b"1"


def test_a_result_that_is_not_json_fails_the_run(work):
    run_id = returns_not_json.enqueue().id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.DEAD and "not JSON-serialisable" in run.error_message


def test_a_big_result_is_cut_with_a_clear_marker(work, settings):
    settings.JOBS_RESULT_MAX_BYTES = 1000
    run_id = big_result.enqueue(5000).id
    small_id = big_result.enqueue(10).id
    work()
    result = JobRun.objects.get(pk=run_id).result
    assert result["__truncated__"] is True and result["size_bytes"] == 5002
    assert JobRun.objects.get(pk=small_id).result == "x" * 10


def test_progress_is_recorded_and_signalled(work, settings):
    settings.JOBS_PROGRESS_INTERVAL_SECONDS = 0.1
    events, statuses = [], []

    def on_progress(sender, run, done, total, message, **kwargs):
        events.append((done, total))

    def on_status(sender, run, status, **kwargs):
        statuses.append(status)

    run_progress.connect(on_progress)
    run_status_changed.connect(on_status)
    try:
        run_id = slow_with_progress.enqueue(total=20, delay=0.02).id
        work()
    finally:
        run_progress.disconnect(on_progress)
        run_status_changed.disconnect(on_status)
    run = JobRun.objects.get(pk=run_id)
    assert (run.progress_done, run.progress_total) == (20, 20)
    assert run.progress_message == "item 20 of 20"
    assert events[-1] == (20, 20)
    assert 2 <= len(events) < 20  # throttled, but not silent
    assert statuses == ["started", "succeeded"]


def test_a_task_can_chain_follow_ups_that_record_parent_and_root(work):
    run_id = spawns_children.enqueue(count=2).id
    work()
    parent = JobRun.objects.get(pk=run_id)
    children = list(parent.children.all())
    assert len(children) == 2
    assert all(c.root_id == parent.pk and c.trigger == "parent" for c in children)
    assert all(c.status == RunStatus.SUCCEEDED for c in children)
    assert sorted(parent.result) == sorted(str(c.pk) for c in children)


def test_workers_register_and_count_their_jobs(work):
    echo.enqueue(1)
    worker = work()
    row = Worker.objects.get(name=worker.name)
    assert row.jobs_done == 1 and row.stopped_at is not None
    assert row.queues[0] == "default.high"


def test_the_claim_is_atomic():
    import threading

    run_id = returns_42.enqueue().id
    winners = []
    barrier = threading.Barrier(6)

    def claim(number):
        from django.db import connection

        barrier.wait()
        try:
            if JobRun.claim(run_id, f"w{number}", "host", number):
                winners.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert JobRun.objects.get(pk=run_id).attempt == 1


def test_an_interrupted_attempt_goes_back_to_the_outbox_without_spending_an_attempt():
    from jobs.dispatch import dispatch_pending

    run_id = returns_42.enqueue().id
    run, attempt = JobRun.claim(run_id, "w", "h", 1)
    assert run.mark_interrupted(attempt)
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
    assert run.max_attempts == 2  # the interrupted attempt did not spend the budget of 1
    assert run.attempts.get().outcome == AttemptOutcome.INTERRUPTED
    assert dispatch_pending(now=timezone.now() + timedelta(minutes=1)) == 1
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED
