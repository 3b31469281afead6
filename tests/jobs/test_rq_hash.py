"""The RQ job an enqueue writes from its prototype is the job RQ's own enqueue_call writes (#10)."""

import zlib

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from jobs.dispatch import ENTRYPOINT
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.rq_hash import job_options
from jobs.samples import high_noop, noop, returns_42

pytestmark = pytest.mark.django_db(transaction=True)


def _hash(job_id):
    fields = get_redis().hgetall(f"rq:job:{job_id}")
    assert fields, f"no RQ job {job_id}"
    fields[b"data"] = zlib.decompress(fields[b"data"])
    return fields


def _written_by_rq(run, job_id):
    """The hash of the same job enqueued by RQ itself, under another id."""
    queue = get_rq_queue(run.rq_queue_name)
    queue.enqueue_call(ENTRYPOINT, args=[str(run.pk)], **job_options(job_id, run.task_path, run.result_ttl))
    return _hash(job_id)


@pytest.mark.parametrize("task", [noop, returns_42, high_noop])
def test_an_enqueued_runs_job_hash_is_field_for_field_what_rq_writes(task):
    run = JobRun.objects.get(pk=task.enqueue().id)
    ours = _hash(run.rq_job_id)
    theirs = _written_by_rq(run, "reference-job")
    for stamp in (b"created_at", b"enqueued_at"):
        assert ours.pop(stamp)[:10] == theirs.pop(stamp)[:10]  # the same day, not the same microsecond
    assert ours == theirs


def test_a_bulk_enqueue_pushes_every_job_in_order_onto_its_lane_and_registers_the_queue():
    results = noop.enqueue_many([()] * 7)
    runs = {str(run.pk): run for run in JobRun.objects.filter(pk__in=[r.id for r in results])}
    queue = get_rq_queue("default.normal")
    assert queue.job_ids == [runs[r.id].rq_job_id for r in results]
    assert queue.key.encode() in get_redis().smembers("rq:queues")
    # RQ reads each job back as a call of the runner with the run id, as a worker will.
    job = Job.fetch(queue.job_ids[0], connection=get_redis(), serializer=JSONSerializer)
    assert (job.func_name, job.args, job.kwargs) == (ENTRYPOINT, [results[0].id], {})
    assert job.get_status() == "queued" and job.origin == "default.normal" and job.timeout == -1


def test_one_push_of_several_tasks_and_lanes_writes_each_job_as_rq_would():
    from django.db import transaction

    with transaction.atomic():  # dispatched together on commit: one batch, three prototypes, two lanes
        results = [noop.enqueue(), high_noop.enqueue(), returns_42.enqueue(), noop.enqueue()]
    runs = [JobRun.objects.get(pk=r.id) for r in results]
    assert get_rq_queue("default.normal").job_ids == [runs[0].rq_job_id, runs[2].rq_job_id, runs[3].rq_job_id]
    assert get_rq_queue("default.high").job_ids == [runs[1].rq_job_id]
    for number, run in enumerate(runs):
        ours = _hash(run.rq_job_id)
        theirs = _written_by_rq(run, f"reference-{number}")
        for stamp in (b"created_at", b"enqueued_at"):
            assert ours.pop(stamp)[:10] == theirs.pop(stamp)[:10]
        assert ours == theirs
