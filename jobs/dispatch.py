"""The transactional outbox: runs are written to Postgres first and handed to RQ after commit."""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import JobStatus as RQJobStatus

from .queues import get_redis, get_rq_queue

logger = logging.getLogger("jobs.dispatch")

ENTRYPOINT = "jobs.runner.execute"


def dispatch_on_commit(run):
    """Hand the run to RQ once the surrounding transaction commits, batched with its siblings."""
    conn = transaction.get_connection()
    batch = getattr(conn, "_jobs_outbox", None)
    if batch is None:
        batch = conn._jobs_outbox = []
    batch.append(run)
    # One callback per run, but the first to fire dispatches the whole batch: a callback lost
    # to a rolled-back savepoint must not strand its siblings. A rolled-back transaction drops
    # its callbacks with its rows: no run and no RQ job (stale batch entries match no row).
    transaction.on_commit(lambda: _flush_outbox(conn))


def _flush_outbox(conn):
    batch, conn._jobs_outbox = getattr(conn, "_jobs_outbox", []), []
    if batch:
        dispatch_many(batch)


def dispatch_many(runs, now=None):
    """Dispatch runs with one UPDATE and one Redis round trip; return how many went out."""
    from .models import JobRun
    from .policies import paused_task_paths
    from .status import RunStatus

    now = now or timezone.now()
    paused = paused_task_paths()
    by_id = {str(run.pk): run for run in runs if run.task_path not in paused}
    if not by_id:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {JobRun._meta.db_table} SET status = CASE WHEN run_after > %s THEN %s ELSE %s END, "
            "status_changed_at = %s, dispatches = dispatches + 1 "
            "WHERE id = ANY(%s::uuid[]) AND status = ANY(%s) RETURNING id, status, dispatches",
            [now, RunStatus.SCHEDULED, RunStatus.QUEUED, now, list(by_id), list(RunStatus.undispatched())],
        )
        rows = cursor.fetchall()
    previous = {}
    marked = []
    for run_id, status, dispatches in rows:
        run = by_id[str(run_id)]
        previous[run.pk] = run.status
        run.status, run.dispatches, run.status_changed_at = status, dispatches, now
        marked.append(run)
    if not marked:
        return 0
    try:
        push_all(marked)
    except RedisError as exc:
        for run in marked:
            run.mark_undispatched(previous[run.pk])
        logger.warning("%d runs stay in the outbox, Redis refused them: %s", len(marked), exc)
        return 0
    return len(marked)


def push_or_return(run):
    """Push a run written as already dispatched; on a Redis error return it to the outbox."""
    try:
        push(run, run.status == "scheduled")
    except RedisError as exc:
        run.mark_undispatched("pending")
        logger.warning("run %s stays in the outbox, Redis refused it: %s", run.pk, exc)
        return False
    return True


def push_many_or_return(runs):
    """Push runs written as already dispatched in one pipeline; on a Redis error return them all."""
    from .status import RunStatus

    try:
        push_all(runs)
    except RedisError as exc:
        for run in runs:  # rare (Redis is down): one guarded write per run is fine
            run.mark_undispatched(RunStatus.PENDING)
        logger.warning("%d runs stay in the outbox, Redis refused them: %s", len(runs), exc)
        return 0
    return len(runs)


def dispatch(run, now=None):
    """Push one undispatched run to RQ; on a Redis error leave it in the outbox. Return success."""
    from .policies import paused_task_paths

    now = now or timezone.now()
    if run.task_path in paused_task_paths():
        return False  # stays in the outbox until the task is resumed
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


def push_all(runs):
    """Push dispatched runs to RQ in one Redis round trip (raises RedisError)."""
    from .status import RunStatus

    with get_redis().pipeline() as pipe:
        for run in runs:
            push(run, run.status == RunStatus.SCHEDULED, pipeline=pipe)
        pipe.execute()


def push(run, delayed, pipeline=None):
    """Create the RQ job for a run: JSON payload, the run id as its only argument."""
    if pipeline is None:
        # RQ alone makes two round trips (save the job, then push it); one pipeline is one.
        with get_redis().pipeline() as pipe:
            job = push(run, delayed, pipeline=pipe)
            pipe.execute()
        return job
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
        return queue.schedule_job(job, run.run_after, pipeline=pipeline)
    return queue.enqueue_call(ENTRYPOINT, args=[str(run.pk)], pipeline=pipeline, **options)


def dispatch_pending(limit=1000, now=None):
    """Dispatch runs the outbox still holds (Redis was down, or their process died); return count."""
    from .models import JobRun
    from .policies import paused_task_paths

    # The grace leaves fresh runs to the on_commit hook of the process that wrote them.
    runs = list(
        JobRun.objects.undispatched()
        .unchanged_for(settings.JOBS_DISPATCH_GRACE_SECONDS, now=now)
        .exclude(task_path__in=paused_task_paths())
        .order_by("status_changed_at")[:limit]
    )
    return dispatch_many(runs, now=now) if runs else 0
