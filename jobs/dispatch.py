"""The transactional outbox: runs are written to Postgres first and handed to RQ after commit."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import JobStatus as RQJobStatus

from .queues import get_rq_queue

logger = logging.getLogger("jobs.dispatch")

ENTRYPOINT = "jobs.runner.execute"


def dispatch_on_commit(run):
    """Hand the run to RQ once the surrounding transaction commits (at once outside one)."""
    # A rolled-back transaction drops this callback with the row: no run and no RQ job.
    transaction.on_commit(lambda: dispatch(run))


def dispatch(run, now=None):
    """Push one undispatched run to RQ; on a Redis error leave it in the outbox. Return success."""
    now = now or timezone.now()
    previous = run.status
    delayed = run.run_after is not None and run.run_after > now
    # Mark first, push second: a fast worker may claim the run before a later status write.
    if not run.mark_dispatched(scheduled=delayed):
        return False
    try:
        push(run, delayed)
    except RedisError as exc:
        run.mark_undispatched(previous)
        logger.warning("run %s stays in the outbox, Redis refused it: %s", run.pk, exc)
        return False
    return True


def push(run, delayed):
    """Create the RQ job for a run: JSON payload, the run id as its only argument."""
    queue = get_rq_queue(run.rq_queue_name)
    options = {
        "job_id": run.rq_job_id,
        "timeout": -1,  # time limits are enforced by jobs.limits, not RQ's SIGALRM
        "result_ttl": run.result_ttl,
        "failure_ttl": max(run.result_ttl, 86400),
        "description": run.task_path,
    }
    if delayed:
        job = queue.create_job(ENTRYPOINT, args=[str(run.pk)], status=RQJobStatus.SCHEDULED, **options)
        return queue.schedule_job(job, run.run_after)
    return queue.enqueue_call(ENTRYPOINT, args=[str(run.pk)], **options)


def dispatch_pending(limit=1000, now=None):
    """Dispatch runs the outbox still holds (Redis was down, or their process died); return count."""
    from .models import JobRun

    # The grace leaves fresh runs to the on_commit hook of the process that wrote them.
    runs = (
        JobRun.objects.undispatched()
        .unchanged_for(settings.JOBS_DISPATCH_GRACE_SECONDS, now=now)
        .order_by("status_changed_at")[:limit]
    )
    return sum(1 for run in runs if dispatch(run, now=now))
