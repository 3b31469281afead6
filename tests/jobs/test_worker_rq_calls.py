"""EngramWorker's own share of RQ's per-job Redis calls: RQ's worker-key refresh and the suspend flag."""

import pytest
from rq.suspension import resume, suspend

from jobs import RunStatus
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.samples import returns_42
from jobs.worker import EngramWorker

pytestmark = pytest.mark.django_db(transaction=True)


def rq_key_refreshed_at(worker):
    return get_redis().hget(worker.key, "last_heartbeat")


def test_rq_key_refreshes_between_jobs_go_out_at_most_once_a_second_in_one_round_trip(monkeypatch):
    worker = EngramWorker([get_rq_queue("default.normal")], connection=get_redis())
    worker.heartbeat()
    first = rq_key_refreshed_at(worker)
    assert first is not None
    assert 0 < get_redis().ttl(worker.key) <= worker.worker_ttl + 60
    get_redis().hset(worker.key, "last_heartbeat", "marker")
    worker.heartbeat()  # within the second: nothing sent
    assert rq_key_refreshed_at(worker) == b"marker"
    worker.heartbeat(timeout=30)  # an explicit TTL always goes out
    assert rq_key_refreshed_at(worker) != b"marker"
    assert get_redis().ttl(worker.key) <= 30
    monkeypatch.setattr("jobs.worker.RQ_BOOKKEEPING_SECONDS", 0)
    get_redis().hset(worker.key, "last_heartbeat", "marker")
    worker.heartbeat()  # a second later (here: at once), it goes out again
    assert rq_key_refreshed_at(worker) != b"marker"


def test_a_suspended_worker_still_stops_before_taking_a_job(work):
    run_id = returns_42.enqueue().id
    suspend(get_redis())
    try:
        work()  # burst mode: a suspended worker exits without running anything
        assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED
    finally:
        resume(get_redis())
    work()
    assert JobRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED


def test_a_worker_logs_its_jobs_at_debug_not_info(caplog):
    import logging
    import signal

    from jobs.queues import worker_queue_names
    from jobs.samples import noop

    for _ in range(3):
        noop.enqueue()
    worker = EngramWorker([get_rq_queue(name) for name in worker_queue_names()], connection=get_redis())
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with caplog.at_level(logging.DEBUG, logger="rq.worker"):
            worker.work(burst=True, logging_level="DEBUG")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    per_job = [r for r in caplog.records if r.name == "rq.worker" and "Job OK" in r.getMessage()]
    assert len(per_job) == 3
    assert {r.levelno for r in per_job} == {logging.DEBUG}
