"""The worker's one-round-trip take of a run's RQ job, and what operators and recovery still see."""

import signal
from datetime import timedelta

import pytest
from django.utils import timezone
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from jobs import RunStatus
from jobs.job_taker import JobTaker, TakenRun
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.reconcile import redispatch_forgotten
from jobs.samples import noop, returns_42
from jobs.worker import EngramWorker

pytestmark = pytest.mark.django_db(transaction=True)


def taker(name="ghost"):
    return JobTaker(get_redis(), f"rq:worker:{name}", name, JSONSerializer)


def job_hash(job_id):
    return get_redis().hgetall(Job.key_for(job_id))


def run_worker_in_process(worker):
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])


def test_a_take_pops_the_highest_lane_first_and_marks_the_job_started_by_its_worker():
    low = JobRun.objects.get(pk=noop.using(priority=-10).enqueue().id)
    high = JobRun.objects.get(pk=noop.using(priority=10).enqueue().id)
    lanes = [get_rq_queue(name) for name in ("default.high", "default.normal", "default.low")]
    taken, queue = taker().take(lanes)
    assert taken == TakenRun(high.rq_job_id, str(high.pk)) and queue.name == "default.high"
    stored = job_hash(high.rq_job_id)
    assert stored[b"status"] == JobStatus.STARTED.encode() and stored[b"worker_name"] == b"ghost"
    assert 0 < get_redis().ttl(Job.key_for(high.rq_job_id)) <= 86400  # not kept forever if its worker dies
    assert get_redis().hget("rq:worker:ghost", "state") == b"busy"
    assert get_rq_queue("default.low").job_ids == [low.rq_job_id]


def test_the_next_take_deletes_the_hash_of_the_job_finished_before_it():
    first, second = (JobRun.objects.get(pk=noop.enqueue().id) for _ in range(2))
    lanes = [get_rq_queue(first.rq_queue_name)]
    one = taker()
    one.take(lanes)
    assert one.take(lanes, finished_job_id=first.rq_job_id)[0].id == second.rq_job_id
    assert job_hash(first.rq_job_id) == {} and job_hash(second.rq_job_id) != {}
    assert one.take(lanes, finished_job_id=second.rq_job_id) is None  # empty: only the cleanup
    assert job_hash(second.rq_job_id) == {} and get_redis().hget("rq:worker:ghost", "state") == b"idle"


def test_a_run_taken_by_a_worker_that_died_before_its_claim_is_dispatched_again(settings, work):
    run = JobRun.objects.get(pk=noop.enqueue().id)
    taker("died-before-claiming").take([get_rq_queue(run.rq_queue_name)])  # then SIGKILLed
    later = timezone.now() + timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS + 1)
    assert redispatch_forgotten(now=later) == 1
    work()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempt == 1 and run.dispatches == 2


def test_a_job_whose_hash_is_gone_is_skipped_and_the_next_one_runs(work):
    run_id = returns_42.enqueue().id
    get_redis().lpush(get_rq_queue("default.normal").key, "no-such-job")
    work()
    assert JobRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
    assert get_rq_queue("default.normal").count == 0


def test_a_plain_rq_job_on_an_engram_lane_takes_rqs_own_path(work):
    queue = Queue("default.normal", connection=get_redis(), serializer=JSONSerializer)
    job = queue.enqueue_call("operator.add", args=(40, 2), result_ttl=600)
    run_id = noop.enqueue().id
    work()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == 42
    assert JobRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED


def test_while_a_run_executes_its_worker_names_its_job_as_current_for_stop_job():
    run = JobRun.objects.get(pk=noop.enqueue().id)
    worker = EngramWorker([get_rq_queue(run.rq_queue_name)], connection=get_redis())
    seen = []
    execute = worker.session.execute

    def spy(run_id):
        seen.append((run_id, worker.get_current_job_id()))
        return execute(run_id)

    worker.session.execute = spy
    run_worker_in_process(worker)
    assert seen == [(str(run.pk), run.rq_job_id)]
    assert worker._current_job_id is None
    assert job_hash(run.rq_job_id) == {}  # deleted when the worker stopped


def test_a_fault_outside_the_task_does_not_stop_the_worker():
    first, second = (noop.enqueue().id for _ in range(2))
    worker = EngramWorker([get_rq_queue("default.normal")], connection=get_redis())
    execute, calls = worker.session.execute, []

    def broken_once(run_id):
        calls.append(run_id)
        if len(calls) == 1:
            raise RuntimeError("the platform, not the task")
        return execute(run_id)

    worker.session.execute = broken_once
    run_worker_in_process(worker)
    assert calls == [str(first), str(second)]
    assert JobRun.objects.get(pk=second).status == RunStatus.SUCCEEDED
