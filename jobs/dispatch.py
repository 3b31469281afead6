"""The transactional outbox: runs are written to Postgres first and handed to RQ after commit.

One path: `dispatch_many()` marks runs dispatched with one UPDATE and pushes them in one Redis
round trip (jobs.rq_hash's script); `dispatch(run)` is a batch of one. Runs written already
dispatched (an autocommitted enqueue) go through `push_written()`, also one round trip for any
number of runs.
"""

import logging

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import JobStatus as RQJobStatus

from .conf import jobs_settings
from .queues import get_redis, get_rq_queue
from .rq_hash import job_options, push_queued
from .status import RunStatus

logger = logging.getLogger("jobs.dispatch")

ENTRYPOINT = "jobs.runner.execute"


def dispatch_on_commit(runs):
    """Hand runs to RQ once the surrounding transaction commits, batched with their siblings."""
    conn = transaction.get_connection()
    batch = getattr(conn, "_jobs_outbox", None)
    if batch is None:
        batch = conn._jobs_outbox = []
    batch.extend(runs)
    # One callback per enqueue (its runs share one savepoint), but the first to fire dispatches
    # the whole batch: a callback lost to a rolled-back savepoint must not strand its siblings.
    # A rolled-back transaction drops its callbacks with its rows: no run and no RQ job (stale
    # batch entries match no row).
    transaction.on_commit(lambda: _flush_outbox(conn))


def _flush_outbox(conn):
    batch, conn._jobs_outbox = getattr(conn, "_jobs_outbox", []), []
    if batch:
        dispatch_many(batch)


def dispatch(run, now=None):
    """Push one undispatched run to RQ; on a Redis error leave it in the outbox. Return success."""
    return dispatch_many([run], now=now) == 1


def dispatch_many(runs, now=None):
    """Dispatch runs with one UPDATE and one Redis round trip; return how many went out."""
    from .models import JobRun
    from .policies import paused_task_paths

    now = now or timezone.now()
    paused = paused_task_paths()
    # A paused task's runs stay in the outbox until it is resumed.
    ready = [run for run in runs if run.task_path not in paused]
    if not ready:
        return 0
    previous = {run.pk: run.status for run in ready}
    # Mark first, push second: a fast worker may claim the run before a later status write.
    marked = JobRun.mark_dispatched_many(ready, now)
    if not marked:
        return 0
    return push_written(marked, previous)


def push_written(runs, previous=None):
    """Push runs written as dispatched in one round trip; on a Redis error return them to the outbox."""
    try:
        push_all(runs)
    except RedisError as exc:
        for run in runs:  # rare (Redis is down): one guarded write per run is fine
            run.mark_undispatched((previous or {}).get(run.pk, RunStatus.PENDING))
        logger.warning("%d runs stay in the outbox, Redis refused them: %s", len(runs), exc)
        return 0
    return len(runs)


def push_all(runs):
    """Push dispatched runs to RQ: one Redis round trip, two if some wait for run_after (raises RedisError)."""
    queued = [run for run in runs if run.status != RunStatus.SCHEDULED]
    if queued:
        push_queued(get_redis(), queued, ENTRYPOINT)
    scheduled = [run for run in runs if run.status == RunStatus.SCHEDULED]
    if scheduled:  # rare: RQ's own path, into its scheduled registry
        with get_redis().pipeline() as pipe:
            for run in scheduled:
                push_scheduled(run, pipe)
            pipe.execute()


def push_scheduled(run, pipeline):
    """Add the RQ job of a run that waits for run_after to `pipeline`: JSON payload, the run id its argument."""
    queue = get_rq_queue(run.rq_queue_name)
    options = job_options(run.rq_job_id, run.task_path, run.result_ttl)
    job = queue.create_job(ENTRYPOINT, args=[str(run.pk)], status=RQJobStatus.SCHEDULED, **options)
    return queue.schedule_job(job, run.run_after, pipeline=pipeline)


def dispatch_pending(limit=1000, now=None):
    """Dispatch runs the outbox still holds (Redis was down, or their process died); return count."""
    from .models import JobRun
    from .policies import paused_task_paths

    # The grace leaves fresh runs to the on_commit hook of the process that wrote them.
    runs = list(
        JobRun.objects.undispatched()
        .unchanged_for(jobs_settings.DISPATCH_GRACE_SECONDS, now=now)
        .exclude(task_path__in=paused_task_paths())
        .order_by("status_changed_at")[:limit]
    )
    return dispatch_many(runs, now=now) if runs else 0
