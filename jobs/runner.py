"""What the RQ worker calls: claim the run in the ledger, execute the task, record the outcome."""

import logging
import os
import signal
import socket
import time
import traceback as tb

from django.db import close_old_connections, connections

from .context import JobContext, current_run
from .definitions import get_task
from .exceptions import HardTimeLimitExceeded, JobCancelled, SoftTimeLimitExceeded, WorkerShutdown
from .ledger_thread import LedgerThread
from .limits import time_limits
from .progress import ProgressReporter
from .results import to_task_result
from .signals import run_progress, run_status_changed
from .status import AttemptOutcome, RunStatus

logger = logging.getLogger("jobs.runner")

# What this process has done, written to its Worker row by the heartbeat (no per-job writes).
stats = {"current_run": None, "done": 0, "failed": 0}
_last_finished = 0.0
# A connection used less than this long ago is trusted without Django's health check query.
TRUST_CONNECTION_SECONDS = 5.0


class DeferredSuccess:
    """Hold a worker's last success until its next claim, which writes both in one statement.

    Only a worker that promises to flush (EngramWorker: before it blocks on an empty queue and
    when it stops) turns this on; anything else calling execute() writes every success at once.
    The cost of the saved round trip: a worker SIGKILLed between a task's return and its next
    dequeue (about a millisecond when busy) leaves the run "running", and lost-run recovery runs
    it again, exactly as if it had been killed just before the write.
    """

    def __init__(self):
        self.enabled = False
        self.pending = None

    def take(self):
        pending, self.pending = self.pending, None
        return pending

    def hold(self, success):
        if not self.enabled:
            success.record()
            _after_success(success)
            return
        self.flush()
        self.pending = success

    def flush(self):
        """Write the held success, if any (the worker calls this before it idles or stops)."""
        success = self.take()
        if success is None:
            return
        try:
            success.record()
        except BaseException:
            self.pending = success  # keep it for the next flush or claim rather than lose it
            raise
        _after_success(success)

    def settle(self, success):
        """After a claim that carried `success`: announce it if written, else hold it again."""
        if success is None:
            return
        if success.won is None:
            self.pending = success  # the statement failed: neither write happened
        else:
            _after_success(success)


deferred = DeferredSuccess()
# The worker's helper thread for claims sent ahead (started and stopped by EngramWorker).
ledger = LedgerThread()
# run id -> (the Future of its claim, the held success riding on it)
_claims_ahead = {}


def claim_ahead(run_id, worker_name, worker_host, worker_pid):
    """Send the claim of a run its worker just dequeued; execute() collects it."""
    from .models import JobRun

    _check_connection()
    finishing = deferred.take()
    future = ledger.submit(JobRun.claim, run_id, worker_name, worker_host, worker_pid, None, finishing)
    _claims_ahead[run_id] = (future, finishing)


def _collect_claim(run_id):
    future, finishing = _claims_ahead.pop(run_id)
    try:
        return future.result()
    finally:
        deferred.settle(finishing)


def abandon_claim(run_id):
    """Hand back a run claimed ahead whose job never reached execute() (RQ failed in between)."""
    if run_id not in _claims_ahead:
        return
    try:
        claimed = _collect_claim(run_id)
        if claimed is not None:
            run, attempt = claimed
            run.mark_interrupted(attempt)
            logger.warning("run %s was claimed but RQ never called its task; it will be dispatched again", run.pk)
    except Exception:  # noqa: BLE001 - RQ's own error is the one to report; recovery settles the run
        logger.exception("run %s: cannot hand back its claim; lost-worker recovery will settle it", run_id)


def _check_connection():
    """Like a request: drop connections that broke or aged out while the worker sat idle."""
    # Between back-to-back jobs the check (a SELECT 1 per job) is skipped; a broken connection
    # still marks itself unusable and is replaced here.
    if time.monotonic() - _last_finished > TRUST_CONNECTION_SECONDS or _connection_had_errors():
        ledger.drain()  # the helper may still be using the connection this may close
        close_old_connections()


def _worker_identity():
    from rq import get_current_job

    job = get_current_job()
    host = socket.gethostname()
    name = getattr(job, "worker_name", None) or f"{host}.{os.getpid()}"
    return name, host, os.getpid()


def execute(run_id):
    """Run one attempt of a run; the RQ entry point (its only argument is the run id)."""
    global _last_finished
    from .dispatch import dispatch
    from .models import JobRun

    try:
        if run_id in _claims_ahead:
            claimed = _collect_claim(run_id)
        else:
            _check_connection()
            name, host, pid = _worker_identity()
            finishing = deferred.take()
            try:
                claimed = JobRun.claim(run_id, name, host, pid, finishing=finishing)
            finally:
                deferred.settle(finishing)
        if claimed is None:
            return _not_claimed(run_id)
        run, attempt = claimed
        stats["current_run"] = run.pk
        run_status_changed.send(sender=JobRun, run=run, status="started")
        outcome = _execute_claimed(run, attempt)
        if outcome != RunStatus.SUCCEEDED:
            stats["failed"] += 1
        if run.status == RunStatus.FAILED:
            dispatch(run)  # schedule the next attempt now; the outbox retries if Redis refuses
        return {"run": str(run.pk), "status": outcome}
    finally:
        # A held success leaves its run "running" until it is written: the heartbeat keeps
        # reporting it as this worker's, or recovery would take it for lost.
        stats["current_run"] = deferred.pending.run.pk if deferred.pending is not None else None
        _last_finished = time.monotonic()


def _connection_had_errors():
    return any(conn.errors_occurred for conn in connections.all(initialized_only=True))


def _not_claimed(run_id):
    """Explain a duplicate or stale RQ job; re-dispatch a run that is not due yet."""
    from .dispatch import dispatch
    from .models import JobRun

    run = JobRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("run %s does not exist; dropping its RQ job", run_id)
        return {"run": run_id, "status": "missing"}
    if run.status in RunStatus.claimable() and run.cancel_requested_at is None:
        # Nobody runs it and it was not due (a re-push before run_after): wait for its time.
        if run.status in RunStatus.waiting():
            run.mark_lost_in_redis()
        if run.status in RunStatus.undispatched():
            dispatch(run)
    logger.info("run %s not claimed (status %s); skipping duplicate RQ job", run_id, run.status)
    return {"run": run_id, "status": run.status, "skipped": True}


def _execute_claimed(run, attempt):
    task = get_task(run.task_path)
    reporter = ProgressReporter(run)
    context_token = current_run.set(run)
    try:
        with time_limits(run.soft_time_limit, run.hard_time_limit, lambda: _hard_limit_reached(run, attempt)):
            try:
                if task.takes_context:
                    earlier = list(run.attempts.all()) if attempt.number > 1 else []
                    task_result = to_task_result(run, task, attempts=[*earlier, attempt])
                    value = task.call(JobContext(task_result=task_result, run=run, reporter=reporter),
                                      *run.args, **run.kwargs)
                else:
                    value = task.call(*run.args, **run.kwargs)
            except JobCancelled:
                _flush_quietly(reporter)
                run.mark_cancelled(attempt)
                _announce(run, "cancelled")
                return RunStatus.CANCELLED
            except (WorkerShutdown, SystemExit, KeyboardInterrupt):
                # Not the task's fault: back to the outbox without spending an attempt.
                _flush_quietly(reporter)
                run.mark_interrupted(attempt)
                logger.warning("run %s interrupted by worker shutdown; it will be dispatched again", run.pk)
                raise
            except BaseException as exc:  # noqa: BLE001 - every task error is recorded, none escapes
                _flush_quietly(reporter)
                return _record_failure(run, attempt, exc)
    finally:
        current_run.reset(context_token)
    try:
        success = run.succeeded_attempt(attempt, value, progress=reporter.take_pending())
    except (TypeError, ValueError) as exc:  # the return value is not JSON
        return _record_failure(run, attempt, exc)
    deferred.hold(success)
    if success.won is False:  # written at once and lost: the ledger knows what happened instead
        run.refresh_from_db()
        return run.status
    return RunStatus.SUCCEEDED  # written, or held for the next claim


def _after_success(success):
    """Announce a written success (a lost compare-and-set means someone else ended the run)."""
    run = success.run
    if stats["current_run"] == run.pk:
        stats["current_run"] = None
    if not success.won:
        logger.info("run %s: its success came too late, the run had already moved on", run.pk)
        return
    stats["done"] += 1
    if success.had_progress:
        done, total, message = success.progress
        run_progress.send(sender=type(run), run=run, done=done, total=total, message=message)
    _announce(run, "succeeded")


def _flush_quietly(reporter):
    """Write the last progress report of an attempt that is ending anyway."""
    try:
        reporter.flush()
    except JobCancelled:
        pass


def _record_failure(run, attempt, exc):
    outcome = AttemptOutcome.SOFT_TIME_LIMIT if isinstance(exc, SoftTimeLimitExceeded) else AttemptOutcome.FAILED
    text = "".join(tb.format_exception(exc))
    if run.mark_attempt_failed(attempt, outcome, type(exc), str(exc), text):
        _announce(run, "failed" if run.status == RunStatus.FAILED else "dead")
    else:
        run.refresh_from_db()
    return run.status


def _announce(run, status):
    from .models import JobRun

    run_status_changed.send(sender=JobRun, run=run, status=status)


def flush_live_events(timeout=1.0):
    """Let queued live events reach Redis before this process kills itself."""
    from .live import publisher

    publisher.flush(timeout)


def _hard_limit_reached(run, attempt):
    """Record the hard-limit outcome, then kill this process (the watchdog thread runs this)."""
    from .dispatch import dispatch

    try:
        won = run.mark_attempt_failed(
            attempt, AttemptOutcome.HARD_TIME_LIMIT, HardTimeLimitExceeded,
            f"killed after the hard time limit of {run.hard_time_limit:g}s",
        )
        if won and run.status == RunStatus.FAILED:
            dispatch(run)
        if won:
            _announce(run, "failed" if run.status == RunStatus.FAILED else "dead")
            flush_live_events()
    finally:
        connections.close_all()
    if won:
        logger.error("run %s exceeded its hard time limit; killing worker process %s", run.pk, os.getpid())
        # The task may be stuck in C code or swallowing exceptions: only the process can go.
        os.kill(os.getpid(), signal.SIGKILL)
