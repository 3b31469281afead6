"""Keep the ledger and Redis in agreement: recover lost runs, re-dispatch what Redis forgot."""

import logging

from django.utils import timezone
from redis.exceptions import RedisError
from rq.command import send_command
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job

from .attempts import fail_attempt
from .conf import jobs_settings
from .dispatch import dispatch, dispatch_pending
from .exceptions import WorkerLost
from .queues import get_redis, get_rq_queue
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
        .unchanged_for(jobs_settings.WORKER_TIMEOUT_SECONDS, now=now)
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
            # Compare-and-set on the attempt: of several sweepers (every worker runs one, and the
            # scheduler) exactly one settles it.
            won = fail_attempt(run, attempt, AttemptOutcome.WORKER_LOST, WorkerLost,
                               f"worker {run.worker_name} {why}", now=now)
        if won:
            recovered += 1
            logger.warning("run %s lost with worker %s; now %s", run.pk, run.worker_name, run.status)
    return recovered


# RQ job statuses after which RQ will never run the job again.
RQ_DONE_STATUSES = {b"finished", b"failed", b"stopped", b"canceled"}


def redispatch_forgotten(now=None, batch=500):
    """Hand back to the outbox the waiting runs that no RQ job will ever start; return how many.

    A queued or scheduled run is forgotten when its RQ job is gone (flush, restart without
    persistence), sits in RQ's failed or finished registries, was popped by a worker that died
    before claiming it (hash still "queued" but in no list, or "started" by a dead worker), or
    is "scheduled" but in no scheduled registry. A re-dispatch is safe even if a live worker
    still holds the old job: the claim is a compare-and-set, so one of the two runs it.
    """
    from .models import JobRun, Worker

    runs = list(
        JobRun.objects.waiting().unchanged_for(jobs_settings.DISPATCH_GRACE_SECONDS, now=now)
        .order_by("status_changed_at")[:batch]
    )
    if not runs:
        return 0
    redis = get_redis()
    with redis.pipeline(transaction=False) as pipe:
        for run in runs:
            pipe.hmget(Job.key_for(run.rq_job_id), "status", "worker_name")
        states = pipe.execute()
    alive = None
    listed = {}  # RQ queue name -> job ids in its list and its intermediate list
    forgotten = []
    for run, (status, worker_name) in zip(runs, states):
        if status is None or status in RQ_DONE_STATUSES:
            forgotten.append(run)
        elif status == b"started":
            if alive is None:
                alive = set(Worker.objects.alive().values_list("name", flat=True))
            if (worker_name or b"").decode() not in alive:
                forgotten.append(run)
        elif status == b"queued" or status == b"scheduled":
            if run.rq_queue_name not in listed:
                listed[run.rq_queue_name] = _listed_job_ids(redis, run.rq_queue_name)
            if run.rq_job_id.encode() not in listed[run.rq_queue_name]:
                forgotten.append(run)
    count = 0
    for run in forgotten:
        if run.mark_lost_in_redis():
            count += 1
            dispatch(run, now=now)
    if count:
        logger.warning("re-dispatched %d runs that Redis had forgotten or a dead worker had popped", count)
    return count


def _listed_job_ids(redis, rq_queue_name):
    """Every job id RQ still holds for one lane: queued, being handed to a worker, or scheduled."""
    queue = get_rq_queue(rq_queue_name)
    with redis.pipeline(transaction=False) as pipe:
        pipe.lrange(queue.key, 0, -1)
        pipe.lrange(IntermediateQueue.get_intermediate_queue_key(queue.key), 0, -1)
        pipe.zrange(queue.scheduled_job_registry.key, 0, -1)
        queued, handed, scheduled = pipe.execute()
    return {*queued, *handed, *scheduled}


def enforce_cancellations(now=None):
    """Stop runs that ignored a cancel request for longer than the grace period (RQ's stop-job)."""
    from .models import JobRun

    runs = JobRun.objects.cancel_overdue(jobs_settings.CANCEL_GRACE_SECONDS, now=now)
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
