"""Keep the ledger and Redis in agreement: recover lost runs, re-dispatch what Redis forgot."""

import logging

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq.command import send_command
from rq.job import Job

from .dispatch import dispatch, dispatch_pending
from .exceptions import WorkerLost
from .signals import run_status_changed
from .queues import get_redis
from .status import AttemptOutcome, RunStatus

logger = logging.getLogger("jobs.reconcile")


def recover_lost_runs(now=None):
    """Settle running runs that no live worker is running; return how many."""
    from django.db.models import Exists, OuterRef

    from .models import JobRun, Worker

    now = now or timezone.now()
    alive = Worker.objects.alive(now)
    # Lost: its worker went silent, or its worker is alive but running something else. The second
    # happens when a claim committed and the reply never reached the worker (the connection broke
    # in between): the worker reported an error and went on, and nobody would ever end the run.
    # The worker's heartbeat reports its current run every JOBS_HEARTBEAT_SECONDS, well within
    # the timeout the run must have been running for.
    lost = (
        JobRun.objects.running()
        .exclude(Exists(alive.filter(name=OuterRef("worker_name"), current_run=OuterRef("pk"))))
        .unchanged_for(settings.JOBS_WORKER_TIMEOUT_SECONDS, now=now)
        .annotate(worker_alive=Exists(alive.filter(name=OuterRef("worker_name"))))
    )
    recovered = 0
    for run in lost:
        attempt = run.current_attempt()
        if run.cancel_requested_at is not None:
            won = run.mark_cancelled(attempt, now=now)
        else:
            why = ("is alive but not running this attempt" if run.worker_alive
                   else "stopped heartbeating while running this attempt")
            won = run.mark_attempt_failed(
                attempt, AttemptOutcome.WORKER_LOST, WorkerLost, f"worker {run.worker_name} {why}", now=now,
            )
        if won:
            recovered += 1
            logger.warning("run %s lost with worker %s; now %s", run.pk, run.worker_name, run.status)
            run_status_changed.send(sender=JobRun, run=run, status=str(run.status))
            if run.status == RunStatus.FAILED:
                dispatch(run, now=now)
    return recovered


def redispatch_forgotten(now=None, batch=500):
    """Hand back to the outbox the queued/scheduled runs whose RQ job Redis no longer holds."""
    from .models import JobRun

    runs = list(
        JobRun.objects.waiting().unchanged_for(settings.JOBS_DISPATCH_GRACE_SECONDS, now=now)
        .order_by("status_changed_at")[:batch]
    )
    if not runs:
        return 0
    redis = get_redis()
    with redis.pipeline(transaction=False) as pipe:
        for run in runs:
            pipe.exists(Job.key_for(run.rq_job_id))
        present = pipe.execute()
    count = 0
    for run, exists in zip(runs, present):
        if not exists and run.mark_lost_in_redis():
            count += 1
            dispatch(run, now=now)
    if count:
        logger.warning("re-dispatched %d runs that Redis had forgotten", count)
    return count


def enforce_cancellations(now=None):
    """Stop runs that ignored a cancel request for longer than the grace period (RQ's stop-job)."""
    from .models import JobRun

    runs = JobRun.objects.cancel_overdue(settings.JOBS_CANCEL_GRACE_SECONDS, now=now)
    sent = 0
    for run in runs:
        # Straight to the worker's channel: the RQ job hash may be gone after a flush.
        send_command(get_redis(), run.worker_name, "stop-job", job_id=run.rq_job_id)
        sent += 1
    return sent


def reconcile(now=None):
    """One full pass; return what each step did."""
    report = {}
    for name, step in (
        ("dispatched", dispatch_pending),
        ("recovered", recover_lost_runs),
        ("redispatched", redispatch_forgotten),
        ("stop_requests", enforce_cancellations),
    ):
        try:
            report[name] = step(now=now)
        except RedisError as exc:
            logger.warning("reconcile step %s skipped, Redis unavailable: %s", name, exc)
            report[name] = None
    return report
