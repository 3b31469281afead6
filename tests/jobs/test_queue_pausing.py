"""Paused queues: runs stay until resumed, and workers (blocked ones too) see a pause or a resume."""

import signal
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun, Worker
from jobs.pausing import pause_queue, resume_queue
from jobs.queues import get_redis, get_rq_queue, lane_names
from jobs.samples import noop, returns_42


pytestmark = pytest.mark.django_db(transaction=True)


# --- workers and paused queues ------------------------------------------------------------------


def test_a_paused_queue_keeps_its_runs_until_resumed(work):
    pause_queue("topics")
    paused_run = noop.using(queue_name="topics").enqueue()
    other_run = returns_42.enqueue()
    work()
    assert JobRun.objects.get(pk=other_run.id).status == RunStatus.SUCCEEDED
    assert JobRun.objects.get(pk=paused_run.id).status == RunStatus.QUEUED
    assert get_rq_queue("topics.normal").count == 1

    resume_queue("topics")
    work()
    assert JobRun.objects.get(pk=paused_run.id).status == RunStatus.SUCCEEDED


def run_blocking_worker(queues, max_idle_time=20):
    """Run a non-burst in-process EngramWorker for one job (or until idle); return it."""
    from jobs.worker import EngramWorker

    worker = EngramWorker([get_rq_queue(name) for name in queues], connection=get_redis())
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        worker.work(burst=False, max_jobs=1, max_idle_time=max_idle_time, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    return worker


def in_thread(action):
    """Run `action` in a thread with its own DB connection; return the thread (started)."""
    def target():
        try:
            action()
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def wait_until(condition, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


@pytest.mark.parametrize("also_listens_to", [[], ["default"]], ids=["only-the-paused-queue", "and-another"])
def test_a_blocking_worker_takes_a_resumed_queue_within_seconds(also_listens_to):
    pause_queue("topics")
    run_id = noop.using(queue_name="topics").enqueue().id
    seen = {}

    def resume_later():
        time.sleep(2.5)  # a few of the worker's blocking slices
        seen["status"] = JobRun.objects.get(pk=run_id).status
        seen["resumed_at"] = timezone.now()
        resume_queue("topics")

    thread = in_thread(resume_later)
    lanes = [name for queue in ["topics", *also_listens_to] for name in lane_names(queue)]
    run_blocking_worker(lanes)
    thread.join(5)

    assert seen["status"] == RunStatus.QUEUED  # untouched while paused
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.started_at - seen["resumed_at"]).total_seconds() < 4


def test_a_pause_reaches_a_worker_already_blocked_on_the_queue():
    runs = {}

    def pause_then_enqueue():
        assert wait_until(lambda: Worker.objects.alive().exists(), 10)
        pause_queue("topics")
        time.sleep(4)  # longer than one blocking slice plus the paused set's cache
        runs["paused"] = noop.using(queue_name="topics").enqueue().id
        runs["other"] = returns_42.enqueue().id

    thread = in_thread(pause_then_enqueue)
    run_blocking_worker(lane_names("topics") + lane_names("default"))
    thread.join(5)

    assert JobRun.objects.get(pk=runs["other"]).status == RunStatus.SUCCEEDED
    assert JobRun.objects.get(pk=runs["paused"]).status == RunStatus.QUEUED
