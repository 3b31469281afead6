"""One run's life in a worker: claim it in the ledger, execute the task, record the outcome.

`execute(run_id)` is what RQ calls (the RQ job's function; its only argument is the run id). It
hands the run to the WorkerSession of the worker process, which owns the process's database
connection and takes the run from claim to a durably written outcome before the worker takes
another job. Nothing is held back and no other thread touches the connection.
"""

import logging
import os
import signal
import socket
import time
import traceback as tb
from contextvars import ContextVar

from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections

from .attempts import fail_attempt
from .context import JobContext, current_run
from .definitions import get_task
from .exceptions import HardTimeLimitExceeded, JobCancelled, SoftTimeLimitExceeded, WorkerShutdown
from .limits import time_limits
from .progress import ProgressReporter
from .results import to_task_result
from .status import AttemptOutcome, RunStatus

logger = logging.getLogger("jobs.runner")

# The session of the worker running in this thread (EngramWorker sets it while it works). A
# context variable, like current_run, so that a plain RQ worker or a test calling execute()
# directly gets a session of its own instead of sharing anything.
current_session = ContextVar("jobs_worker_session", default=None)

# A connection used less than this long ago is trusted without Django's health check query.
TRUST_CONNECTION_SECONDS = 5.0
# Waits between attempts to write to a database that is down: the outcome is never dropped.
RETRY_FIRST_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
# Errors after which the statement may or may not have committed, and a retry must find out.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class WorkerSession:
    """A worker process's ledger side: claim a run, execute it, record its outcome durably.

    The heartbeat thread reads `current_run_id`, `done` and `failed` (plain attribute reads).
    """

    def __init__(self, name, host, pid):
        self.name, self.host, self.pid = name, host, pid
        self.current_run_id = None
        self.done = 0
        self.failed = 0
        self._used_at = -float("inf")

    @classmethod
    def for_current_job(cls):
        """The session of this thread's worker, or a new one named after the current RQ job's."""
        session = current_session.get()
        if session is not None:
            return session
        from rq import get_current_job

        job = get_current_job()
        host = socket.gethostname()
        name = getattr(job, "worker_name", None) or f"{host}.{os.getpid()}"
        return cls(name, host, os.getpid())

    # --- the one loop step --------------------------------------------------------------

    def execute(self, run_id):
        """Run one attempt of a run, from claim to a recorded outcome; return a summary dict."""
        from django.utils import timezone

        from .models import JobRun

        self._check_connection()
        # The claim's time is also its token: a repeat after a lost reply finds its own claim.
        now = timezone.now()
        claimed = self.durably(lambda: JobRun.claim(run_id, self.name, self.host, self.pid, now=now))
        if claimed is None:
            return self._not_claimed(run_id)
        run, attempt = claimed
        self.current_run_id = run.pk
        try:
            outcome = self._execute_claimed(run, attempt)
        finally:
            # Cleared only once the outcome is in the ledger (or the run was handed back).
            self.current_run_id = None
            self._used_at = time.monotonic()
        if outcome == RunStatus.SUCCEEDED:
            self.done += 1
        else:
            self.failed += 1
        return {"run": str(run.pk), "status": outcome}

    def durably(self, write, recheck=None):
        """Call `write` until the database answers; return its result.

        After an error that may have hidden a commit, a falsy result is checked with `recheck`
        (did the earlier try commit?). The worker holds its job meanwhile: it never drops an
        outcome or a claim because Postgres is restarting.
        """
        delay, failed = RETRY_FIRST_SECONDS, False
        while True:
            try:
                result = write()
                if not result and failed and recheck is not None:
                    return recheck()
                return result
            except CONNECTION_ERRORS as exc:
                if connection.in_atomic_block:
                    raise  # the caller's transaction is gone; only it can start over
                failed = True
                logger.warning("worker %s: database unavailable (%s); retrying in %.2fs", self.name, exc, delay)
                _reset_connection()
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    # --- inside the attempt --------------------------------------------------------------

    def _execute_claimed(self, run, attempt):
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
                    self.durably(lambda: run.mark_cancelled(attempt),
                                 lambda: run.attempt_recorded(attempt, AttemptOutcome.CANCELLED))
                    return RunStatus.CANCELLED
                except (WorkerShutdown, SystemExit, KeyboardInterrupt):
                    # Not the task's fault: back to the outbox without spending an attempt.
                    _flush_quietly(reporter)
                    self.durably(lambda: run.mark_interrupted(attempt),
                                 lambda: run.attempt_recorded(attempt, AttemptOutcome.INTERRUPTED))
                    logger.warning("run %s interrupted by worker shutdown; it will be dispatched again", run.pk)
                    raise
                except BaseException as exc:  # noqa: BLE001 - every task error is recorded, none escapes
                    _flush_quietly(reporter)
                    return self._record_failure(run, attempt, exc)
        finally:
            current_run.reset(context_token)
        progress = reporter.take_pending()
        try:
            won = self.durably(lambda: run.mark_succeeded(attempt, value, progress=progress),
                               lambda: run.attempt_recorded(attempt, AttemptOutcome.SUCCEEDED))
        except (TypeError, ValueError) as exc:  # the return value is not JSON
            return self._record_failure(run, attempt, exc)
        if won:
            return RunStatus.SUCCEEDED
        # Someone else ended the attempt first (an operator's cancel, a recovery): the ledger knows.
        logger.info("run %s: its success came too late, the run had already moved on", run.pk)
        run.refresh_from_db()
        return run.status

    def _record_failure(self, run, attempt, exc):
        outcome = AttemptOutcome.SOFT_TIME_LIMIT if isinstance(exc, SoftTimeLimitExceeded) else AttemptOutcome.FAILED
        text = "".join(tb.format_exception(exc))
        won = self.durably(lambda: fail_attempt(run, attempt, outcome, type(exc), str(exc), text),
                           lambda: run.attempt_recorded(attempt, outcome))
        if not won:
            run.refresh_from_db()
        return run.status

    def _not_claimed(self, run_id):
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
        logger.debug("run %s not claimed (status %s); skipping duplicate RQ job", run_id, run.status)
        return {"run": run_id, "status": run.status, "skipped": True}

    def _check_connection(self):
        """Like a request: drop connections that broke or aged out while the worker sat idle."""
        # Between back-to-back jobs the check (a SELECT 1 per job) is skipped; a broken
        # connection still marks itself unusable and is replaced here.
        if time.monotonic() - self._used_at > TRUST_CONNECTION_SECONDS or connection.errors_occurred:
            close_old_connections()


def execute(run_id):
    """Run one attempt of a run; the RQ entry point (its only argument is the run id)."""
    return WorkerSession.for_current_job().execute(run_id)


def _reset_connection():
    """Drop this thread's database connection so the next query opens a fresh one."""
    try:
        connection.close()
    except CONNECTION_ERRORS:
        pass


def _flush_quietly(reporter):
    """Write the last progress report of an attempt that is ending anyway."""
    try:
        reporter.flush()
    except JobCancelled:
        pass
    except CONNECTION_ERRORS as exc:  # the outcome matters, its last progress line does not
        logger.warning("run %s: last progress report not written: %s", reporter.run.pk, exc)
        _reset_connection()


def flush_live_events(timeout=1.0):
    """Let queued live events reach Redis before this process kills itself."""
    from .live import publisher

    publisher.flush(timeout)


def _hard_limit_reached(run, attempt):
    """Record the hard-limit outcome, then kill this process (the watchdog thread runs this)."""
    won = False
    try:
        won = fail_attempt(
            run, attempt, AttemptOutcome.HARD_TIME_LIMIT, HardTimeLimitExceeded,
            f"killed after the hard time limit of {run.hard_time_limit:g}s",
        )
        if won:
            flush_live_events()
    finally:
        connections.close_all()
    if won:
        logger.error("run %s exceeded its hard time limit; killing worker process %s", run.pk, os.getpid())
        # The task may be stuck in C code or swallowing exceptions: only the process can go.
        os.kill(os.getpid(), signal.SIGKILL)
