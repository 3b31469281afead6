"""A long-running worker keeps the garbage collector off the objects its start-up left behind."""

import gc
import signal

import pytest

from jobs import RunStatus
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue, worker_queue_names
from jobs.samples import noop
from jobs.worker import EngramWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


def test_a_long_running_worker_freezes_its_start_up_objects_and_a_burst_worker_does_not(unfrozen, work):
    noop.enqueue()
    work()
    assert gc.get_freeze_count() == 0

    run_id = noop.enqueue().id
    worker = EngramWorker([get_rq_queue(name) for name in worker_queue_names()], connection=get_redis())
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        worker.work(burst=False, max_jobs=1, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    assert JobRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
    # A full collection walks only what came after start-up: far fewer objects than were frozen.
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert len(gc.get_objects()) < frozen
