"""RQ's job hash for a dispatched run, copied from a prototype that RQ itself built.

Going through RQ for every run (create_job, to_dict, then SADD, HSET status, HSET job, RPUSH)
was half of an enqueue's CPU. The jobs of one task on one lane differ only in their id, their
one argument (the run id) and two timestamps. So RQ builds one prototype job per (lane, task,
result TTL), and each run copies it: one HSET per run, then one SADD and one RPUSH per lane for
the whole batch. The hash is field for field what `Queue.enqueue_call` writes (a test compares
them), so RQ's workers, `rq info` and the reconciler read it as before.
"""

import zlib
from functools import cache

from rq import Queue
from rq.job import Job
from rq.utils import now, utcformat

from .queues import get_rq_queue

# A run id's shape: the prototype's data is split around it, and each run's id fills the gap.
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
_VARYING = ("data", "created_at", "enqueued_at")


@cache
def prototype(rq_queue_name, description, result_ttl, entrypoint):
    """(queue key, job key prefix, constant fields, data before and after the run id) of RQ's job."""
    queue = get_rq_queue(rq_queue_name)
    job = queue.create_job(entrypoint, args=[_PLACEHOLDER], **job_options(_PLACEHOLDER, description, result_ttl))
    queue._prepare_for_queue(job)  # what enqueue_call does before it saves: origin, enqueued_at, status
    fields = job.to_dict()
    constant = {name: value for name, value in fields.items() if name not in _VARYING}
    before, after = job.data.split(_PLACEHOLDER.encode())
    return queue.key, Job.redis_job_namespace_prefix, constant, before, after


def job_options(run_id_and_dispatch, description, result_ttl):
    """RQ options of a run's job: ledger-enforced time limits, failures kept at least a day."""
    return {
        "job_id": run_id_and_dispatch,
        "timeout": -1,  # time limits are enforced by jobs.limits, not RQ's SIGALRM
        "result_ttl": result_ttl,
        "failure_ttl": max(result_ttl, 86400),
        "description": description,
    }


def add_queued(pipeline, runs, entrypoint):
    """Add the RQ jobs of runs to `pipeline` as queued: one HSET each, one RPUSH per lane."""
    stamp = utcformat(now())  # one batch, one instant: RQ would differ by microseconds
    lanes = {}
    for run in runs:
        queue_key, prefix, constant, before, after = prototype(
            run.rq_queue_name, run.task_path, run.result_ttl, entrypoint)
        job_id = run.rq_job_id
        fields = dict(constant)
        fields["data"] = zlib.compress(before + str(run.pk).encode() + after)
        fields["created_at"] = fields["enqueued_at"] = stamp
        pipeline.hset(prefix + job_id, mapping=fields)
        lanes.setdefault(queue_key, []).append(job_id)
    if lanes:
        pipeline.sadd(Queue.redis_queues_keys, *lanes)
    for queue_key, job_ids in lanes.items():
        pipeline.rpush(queue_key, *job_ids)

