"""A run's guarded status changes (the retry decision included), and the one place that announces them."""

import random
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from ..signals import run_status_changed
from ..status import AttemptOutcome, RunStatus

# Every status change goes through _transition() (or a hot-path statement with the same guard),
# which only moves from these statuses.
ALLOWED_FROM = {
    RunStatus.QUEUED: [RunStatus.PENDING, RunStatus.FAILED],
    RunStatus.SCHEDULED: [RunStatus.PENDING, RunStatus.FAILED],
    # failed dispatch, lost job, interrupted attempt
    RunStatus.PENDING: [RunStatus.QUEUED, RunStatus.SCHEDULED, RunStatus.RUNNING],
    RunStatus.RUNNING: RunStatus.claimable(),
    RunStatus.SUCCEEDED: [RunStatus.RUNNING],
    # a retry, or a failed retry dispatch
    RunStatus.FAILED: [RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.SCHEDULED],
    RunStatus.DEAD: [RunStatus.RUNNING],
    RunStatus.CANCELLED: RunStatus.active(),
}


class RunTransitions:
    """JobRun's state machine: each method moves the run, or reports that another actor won."""

    def _transition(self, to_status, *, extra_filter=None, **fields):
        """Move to `to_status` only from an allowed status; return whether this call won."""
        now = fields.pop("now", None) or timezone.now()
        changes = {"status": to_status, "status_changed_at": now, **fields}
        # A compare-and-set UPDATE, not save(): the worker, the reconciler and an operator may
        # all act on the same run at once, and only one of them may win each move.
        won = (
            type(self)._default_manager.filter(pk=self.pk, status__in=ALLOWED_FROM[to_status])
            .filter(**(extra_filter or {}))
            .update(**changes)
        ) == 1
        if won:
            for name, value in changes.items():
                if isinstance(value, (models.F, models.expressions.Combinable)):
                    continue
                setattr(self, name, value)
        return won

    def _announce(self, old_status, status=None):
        """Send run_status_changed: the one place it is sent (every transition method calls it)."""
        run_status_changed.send(sender=self._meta.concrete_model, run=self, status=str(status or self.status),
                                old_status=old_status)

    # --- the outbox --------------------------------------------------------------------

    def mark_undispatched(self, previous_status=None):
        """Put the run back into the outbox after Redis refused it."""
        old = self.status
        back = RunStatus.FAILED if previous_status == RunStatus.FAILED else RunStatus.PENDING
        won = self._transition(back, extra_filter={"status": self.status})
        if won:
            self._announce(old)
        return won

    def mark_lost_in_redis(self):
        """Redis no longer holds this waiting run (flush, restart, a dead popper): back to the outbox."""
        old = self.status
        won = self._transition(RunStatus.PENDING,
                               extra_filter={"status__in": RunStatus.waiting(), "dispatches": self.dispatches})
        if won:
            self._announce(old)
        return won

    # --- an attempt's end other than success -------------------------------------------

    def mark_attempt_failed(self, attempt, outcome, exc_type, message, traceback="", now=None, rng=None):
        """Record a failed attempt and decide: another attempt (failed, run_after set) or dead."""
        now = now or timezone.now()
        error = {
            "error_type": f"{exc_type.__module__}.{exc_type.__qualname__}" if exc_type else "",
            "error_message": message or "",
            "error_traceback": traceback or "",
        }
        policy = self.policy
        old = self.status
        with transaction.atomic():
            if policy.should_retry(attempt.number, exc_type, max_attempts=self.max_attempts):
                delay = policy.delay(attempt.number, rng or random)
                won = self._transition(
                    RunStatus.FAILED, extra_filter={"attempt": attempt.number}, now=now,
                    run_after=now + timedelta(seconds=delay), **error,
                )
            else:
                won = self._transition(
                    RunStatus.DEAD, extra_filter={"attempt": attempt.number}, now=now, finished_at=now, **error,
                )
            if won:
                attempt.finish(outcome, now=now, error_type=error["error_type"],
                               error_message=error["error_message"], traceback=error["error_traceback"])
        if won:
            self._announce(old)
        return won

    def mark_cancelled(self, attempt=None, now=None):
        """Cancel the run; a running one's attempt is closed as cancelled."""
        now = now or timezone.now()
        old = self.status
        was_running = self.status == RunStatus.RUNNING
        if was_running and attempt is None:
            attempt = self.current_attempt()
        with transaction.atomic():
            extra = {"attempt": attempt.number} if attempt else None
            won = self._transition(RunStatus.CANCELLED, extra_filter=extra, now=now, finished_at=now,
                                   cancel_requested_at=self.cancel_requested_at or now)
            if won and attempt is not None:
                attempt.finish(AttemptOutcome.CANCELLED, now=now)
        if won:
            self._announce(old)
        return won

    def request_cancel(self, now=None):
        """Ask a running run to stop at its next progress report."""
        now = now or timezone.now()
        updated = type(self)._default_manager.filter(
            pk=self.pk, status=RunStatus.RUNNING, cancel_requested_at__isnull=True,
        ).update(cancel_requested_at=now)
        if updated:
            self.cancel_requested_at = now
        return updated == 1

    def mark_interrupted(self, attempt, now=None):
        """Hand a run cut short by a worker shutdown back to the outbox without spending an attempt."""
        now = now or timezone.now()
        old = self.status
        with transaction.atomic():
            # The attempt keeps its number (attempt rows are unique per run); the budget grows
            # by one instead, since the shutdown was not the task's fault.
            won = self._transition(
                RunStatus.PENDING, extra_filter={"attempt": attempt.number, "status": RunStatus.RUNNING}, now=now,
                max_attempts=models.F("max_attempts") + 1, run_after=None,
            )
            if won:
                attempt.finish(AttemptOutcome.INTERRUPTED, now=now, error_type="jobs.exceptions.WorkerShutdown",
                               error_message="worker shut down before the task finished")
                self.refresh_from_db(fields=["max_attempts"])
        if won:
            self._announce(old)
        return won
