"""Real rqworker processes under faults: RQ's scheduler child, lost-worker detection, outages."""

import os
import signal
import time

import pytest
from django.db import connections

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobRun, Worker
from jobs.queues import get_redis
from jobs.samples import noop, sleeps_retryable
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:
        return []


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead; its parent (init, for an orphan) reaps it soon.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def scheduler_locks():
    return get_redis().keys("rq:scheduler-lock:*")


def test_rqs_scheduler_child_dies_with_its_worker_and_frees_its_locks(processes):
    worker = processes.worker()
    child = wait_for(lambda: (kids := children_of(worker.pid)) and kids[0], timeout=30,
                     message="the worker's RQ scheduler child")
    wait_for(scheduler_locks, timeout=30, message="the scheduler locks")
    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
    worker.wait(10)
    killed = time.monotonic()
    wait_for(lambda: not alive(child), timeout=10, message="the scheduler child to exit")
    wait_for(lambda: not scheduler_locks(), timeout=10, message="the scheduler locks to be released")
    assert time.monotonic() - killed < 5


def test_other_workers_settle_a_lost_workers_run_without_any_scheduler(processes, settings):
    run_id = sleeps_retryable.enqueue(30).id  # 3 attempts: the lost one is retried
    first = processes.worker()
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).exists(), timeout=30,
             message="the run to start")
    second = processes.worker()
    wait_for(lambda: Worker.objects.filter(pid=second.pid).exists(), timeout=30, message="the second worker")
    # Its sweeper arms itself once the database has answered its heartbeats for a whole timeout.
    time.sleep(settings.JOBS_WORKER_TIMEOUT_SECONDS + 2 * settings.JOBS_HEARTBEAT_SECONDS)
    os.killpg(first.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: JobRun.objects.filter(pk=run_id, attempts__outcome=AttemptOutcome.WORKER_LOST).exists(),
             timeout=30, message="the lost attempt to be settled")
    detection = time.monotonic() - killed
    bound = settings.JOBS_WORKER_TIMEOUT_SECONDS + 2 * settings.JOBS_HEARTBEAT_SECONDS
    assert detection <= bound + 1, f"took {detection:.1f}s"
    assert second.poll() is None


def test_a_worker_outlives_redis_and_postgres_restarts_and_runs_what_comes_next(processes, services):
    worker = processes.worker()
    first = noop.enqueue().id
    wait_for(lambda: JobRun.objects.filter(pk=first, status=RunStatus.SUCCEEDED).exists(), timeout=30,
             message="the first run")
    services.stop_redis()
    time.sleep(2)
    services.start_redis()
    services.stop_postgres()
    time.sleep(2)
    services.start_postgres()
    connections.close_all()
    after = noop.enqueue().id
    wait_for(lambda: JobRun.objects.filter(pk=after, status=RunStatus.SUCCEEDED).exists(), timeout=60,
             message="a run enqueued after both restarts")
    assert worker.poll() is None, "the worker exited"
