"""End to end with real `manage.py rqworker` subprocesses: crashes, limits, forced cancels, shutdown."""

import os
import signal

import pytest

from jobs import AttemptOutcome, RunStatus
from jobs.control import cancel_run
from jobs.models import JobRun
from jobs.samples import ignores_cancel, overruns_hard_limit, sleeps, sleeps_retryable, slow_with_progress
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_job_loses_nothing(processes):
    ids = [sleeps_retryable.enqueue(0.03).id for _ in range(200)]
    processes("jobs", "housekeeping")
    first = processes.worker()
    victim = wait_for(
        lambda: JobRun.objects.filter(status=RunStatus.RUNNING, progress_done=0).exclude(
            attempts__outcome=AttemptOutcome.SUCCEEDED).filter(pk__in=ids).first()
        if JobRun.objects.filter(status=RunStatus.SUCCEEDED).count() >= 20 else None,
        message="the first worker to be mid-job after 20 runs",
        interval=0.005,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk__in=ids, status__in=RunStatus.terminal()).count() == 200,
             timeout=120, message="all 200 runs to finish")
    assert JobRun.objects.filter(pk__in=ids, status=RunStatus.SUCCEEDED).count() == 200
    lost = JobRun.objects.filter(pk__in=ids, attempts__outcome=AttemptOutcome.WORKER_LOST).distinct()
    assert lost.count() == 1, "exactly the run in the killed worker's hands was lost and retried"
    killed = lost.get()
    assert killed.pk == victim.pk
    assert list(killed.attempts.values_list("outcome", flat=True)) == ["worker_lost", "succeeded"]


def test_the_hard_time_limit_kills_the_process_and_is_recorded(processes):
    run_id = overruns_hard_limit.enqueue(seconds=60).id
    worker = processes.worker()
    run = wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.DEAD).first(), timeout=60,
                   message="the run to die")
    assert worker.wait(10) == -signal.SIGKILL
    assert run.error_type == "jobs.exceptions.HardTimeLimitExceeded"
    assert run.attempts.get().outcome == AttemptOutcome.HARD_TIME_LIMIT


def test_a_run_that_ignores_cancel_is_stopped_by_rqs_stop_job(processes):
    run_id = ignores_cancel.enqueue(seconds=60).id
    processes("jobs", "housekeeping")
    worker = processes.worker()
    run = wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, progress_done__gt=0).first(),
                   message="the run to start")
    assert cancel_run(run) == "requested"
    run = wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.CANCELLED).first(), timeout=30,
                   message="the forced cancel")
    assert worker.wait(10) == -signal.SIGKILL
    assert run.attempts.get().outcome == AttemptOutcome.CANCELLED


def test_sigterm_lets_the_current_job_finish_and_keeps_the_rest_queued(processes):
    # SIGTERM once the task itself reports progress, not at the claim: a first job's claim comes
    # before its module is imported, which ate most of a 1 s job's margin against the 1 s grace
    # (CI: cold shutdown 1.105 s after the warm one). Left to run: at most 9 x 0.06 s.
    current = slow_with_progress.enqueue(total=10, delay=0.06).id
    waiting = sleeps.enqueue(0.1).id
    worker = processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk=current, status=RunStatus.RUNNING, progress_done__gt=0).exists(),
             interval=0.02, message="the task to start")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    run = JobRun.objects.get(pk=current)
    assert run.status == RunStatus.SUCCEEDED and run.progress_done == 10
    assert JobRun.objects.get(pk=waiting).status == RunStatus.QUEUED


def test_sigterm_stops_an_idle_worker_that_has_run_a_job(processes):
    # A worker blocked in its pop after a job kept RQ's "busy" state: SIGTERM only asked it to
    # stop after its next job, so an idle worker never stopped (the supervisor had to SIGKILL it).
    run_id = sleeps.enqueue(0.01).id
    worker = processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED).exists(), timeout=30,
             message="the run to finish")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0


def test_a_job_overrunning_the_shutdown_grace_goes_back_to_the_outbox(processes):
    run_id = sleeps.enqueue(30).id
    worker = processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).exists(), message="start")
    worker.send_signal(signal.SIGTERM)
    worker.wait(30)
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.PENDING and run.max_attempts == 2
    assert run.attempts.get().outcome == AttemptOutcome.INTERRUPTED
    processes("jobs", "housekeeping")
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).exists(), message="re-dispatch")


def test_a_worker_writes_its_last_success_before_it_waits_for_more(processes):
    # A success is held for the worker's next claim; with no next job it must not stay "running".
    run_ids = [sleeps.enqueue(0.01).id for _ in range(3)]
    worker = processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count() == 3,
             timeout=30, message="the idle worker to record its last run")
    os.killpg(worker.pid, signal.SIGKILL)  # nothing is held any more: a kill now loses nothing
    worker.wait(10)
    assert JobRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count() == 3
