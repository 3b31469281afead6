"""Operator actions on runs: cancel and retry, used by the CLI and the admin."""

import logging

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from .context import triggered_by
from .definitions import get_task
from .queues import get_redis
from .status import RunStatus, Trigger

logger = logging.getLogger("jobs.control")


def cancel_run(run):
    """Cancel a run: waiting ones at once, running ones cooperatively. Return 'cancelled',
    'requested' or None when the run was already finished."""
    if run.status == RunStatus.RUNNING:
        return "requested" if run.request_cancel() else None
    rq_job_id = run.rq_job_id
    if not run.mark_cancelled():
        run.refresh_from_db()
        if run.status == RunStatus.RUNNING:  # a worker claimed it meanwhile
            return "requested" if run.request_cancel() else None
        return None
    _remove_rq_job(rq_job_id)
    return "cancelled"


def _remove_rq_job(rq_job_id):
    # Best effort: the ledger already says cancelled, so a surviving RQ job is skipped by the claim.
    try:
        Job.fetch(rq_job_id, connection=get_redis(), serializer=JSONSerializer).delete(remove_from_queue=True)
    except (NoSuchJobError, RedisError) as exc:
        logger.info("RQ job %s not removed: %s", rq_job_id, exc)


def retry_run(run, args=None, kwargs=None, user=None):
    """Enqueue a new run of the same task (same or edited arguments), linked to `run`."""
    task = get_task(run.task_path).using(queue_name=run.queue, priority=run.priority)
    with triggered_by(user=user, trigger=Trigger.RETRY, retry_of=run):
        return task.enqueue(*(run.args if args is None else args), **(run.kwargs if kwargs is None else kwargs))
