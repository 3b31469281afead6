"""The run ledger: one row per enqueued task, the source of truth for its state."""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from ..retry import RetryPolicy
from ..signals import run_progress, run_status_changed
from ..status import AttemptOutcome, Lane, RunStatus, Trigger
from .row_values import row_values

S = RunStatus

# Every status change goes through _transition(), which only moves from these statuses.
ALLOWED_FROM = {
    S.QUEUED: [S.PENDING, S.FAILED],
    S.SCHEDULED: [S.PENDING, S.FAILED],
    S.PENDING: [S.QUEUED, S.SCHEDULED, S.RUNNING],  # failed dispatch, lost job, interrupted attempt
    S.RUNNING: S.claimable(),
    S.SUCCEEDED: [S.RUNNING],
    S.FAILED: [S.RUNNING, S.QUEUED, S.SCHEDULED],  # a retry, or a failed retry dispatch
    S.DEAD: [S.RUNNING],
    S.CANCELLED: S.active(),
}


def _cap_result(value):
    """Keep results JSON and small; a cut result says so and how big it was."""
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the task's return value is not JSON-serialisable: {exc}") from None
    limit = settings.JOBS_RESULT_MAX_BYTES
    if len(encoded) <= limit:
        return value
    return {"__truncated__": True, "size_bytes": len(encoded), "preview": encoded[: min(1000, limit // 2)]}


_INSERT_SQL = {}  # table -> the INSERT statement of JobRun.insert()

# A claim and a progress report commit without waiting for their WAL flush (one fsync each, most
# of a no-op job's time): neither needs to be durable on its own. The attempt's outcome is
# written with a normal, durable commit, and a durable commit flushes all the WAL before it, so
# the claim and the last progress report are on disk by the time the outcome is. Only a
# Postgres crash in between can lose a claim, and then the run is simply run again (at least
# once). set_config(..., true) lasts for the statement's own transaction, its commit included.
NO_FSYNC = "no_fsync AS (SELECT set_config('synchronous_commit', 'off', true) AS value)"
NO_FSYNC_APPLIED = "(SELECT value FROM no_fsync) = 'off'"


def _row(run, fields):
    """A new run's column values, converted as save() converts them (__init__ set the defaults)."""
    return row_values(run, fields)


class JobRunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=S.active())

    def pending(self):
        return self.filter(status=S.PENDING)

    def undispatched(self):
        return self.filter(status__in=S.undispatched())

    def waiting(self):
        return self.filter(status__in=S.waiting())

    def running(self):
        return self.filter(status=S.RUNNING)

    def succeeded(self):
        return self.filter(status=S.SUCCEEDED)

    def failed(self):
        return self.filter(status=S.FAILED)

    def dead(self):
        return self.filter(status=S.DEAD)

    def cancelled(self):
        return self.filter(status=S.CANCELLED)

    def finished(self):
        return self.filter(status__in=S.terminal())

    def unchanged_for(self, seconds, now=None):
        return self.filter(status_changed_at__lt=(now or timezone.now()) - timedelta(seconds=seconds))

    def cancel_overdue(self, grace_seconds, now=None):
        """Running runs asked to cancel more than `grace_seconds` ago."""
        cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
        return self.running().filter(cancel_requested_at__lt=cutoff)


class JobRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_path = models.CharField(max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=64)
    lane = models.CharField(max_length=10, choices=Lane.choices, default=Lane.NORMAL)
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING)

    attempt = models.PositiveIntegerField(default=0, help_text="Attempts started (interrupted ones excluded).")
    max_attempts = models.PositiveIntegerField(default=1)
    retry_policy = models.JSONField(default=dict, blank=True)
    soft_time_limit = models.FloatField(null=True, blank=True)
    hard_time_limit = models.FloatField(null=True, blank=True)
    result_ttl = models.PositiveIntegerField(default=600)
    dispatches = models.PositiveIntegerField(default=0, help_text="Times handed to RQ; part of the RQ job id.")

    enqueued_at = models.DateTimeField(default=timezone.now)
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    worker_name = models.CharField(max_length=255, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)

    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=500, blank=True)
    progress_updated_at = models.DateTimeField(null=True, blank=True)

    result = models.JSONField(null=True, blank=True)
    error_type = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    error_traceback = models.TextField(blank=True)

    # Mostly NULL: partial indexes (Meta) instead of full ones, which every status change would
    # have to update (a status change is never a HOT update: status is indexed).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
                               db_index=False)
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="descendants",
                             db_index=False)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries",
                                 db_index=False)
    schedule = models.ForeignKey("jobs.Schedule", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="runs", db_index=False)
    unique_key = models.CharField(max_length=255, null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
    # The X-Request-ID of the web request that enqueued it (children inherit their parent's): logs join on it.
    request_id = models.CharField(max_length=64, blank=True, default="")
    enqueued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )

    objects = JobRunQuerySet.as_manager()

    class Meta:
        ordering = ["-enqueued_at"]
        indexes = [
            models.Index(fields=["status", "-enqueued_at"], name="jobs_run_status_idx"),
            models.Index(fields=["task_path", "-enqueued_at"], name="jobs_run_task_idx"),
            models.Index(fields=["-enqueued_at"], name="jobs_run_enqueued_idx"),
            # One per admin filter, each in the changelist's order, so a filtered page is an index scan.
            models.Index(fields=["queue", "-enqueued_at"], name="jobs_run_queue_idx"),
            models.Index(fields=["trigger", "-enqueued_at"], name="jobs_run_trigger_idx"),
            *[
                models.Index(fields=[name], name=f"jobs_run_{name}_idx", condition=models.Q(**{f"{name}__isnull": False}))
                for name in ("parent", "root", "retry_of", "enqueued_by", "schedule")
            ],
            models.Index(fields=["request_id"], name="jobs_run_request_idx", condition=~models.Q(request_id="")),
            # The outbox and reconciler scan only the few unfinished rows of a huge table.
            models.Index(
                fields=["status_changed_at"], name="jobs_run_unfinished_idx",
                condition=models.Q(status__in=S.active()),
            ),
        ]
        constraints = [
            # Two enqueues of the same unique key race here; the loser gets the winner's run.
            models.UniqueConstraint(
                fields=["unique_key"], name="jobs_run_unique_key_active",
                condition=models.Q(status__in=S.active()) & models.Q(unique_key__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.task_path} [{self.status}] {self.id}"

    # --- reading ------------------------------------------------------------------------

    @property
    def policy(self):
        return RetryPolicy.from_json(self.retry_policy)

    @property
    def rq_queue_name(self):
        return f"{self.queue}.{self.lane}"

    @property
    def rq_job_id(self):
        """The id of the run's current RQ job; each dispatch gets a fresh one, so a re-dispatch
        never collides with RQ still finishing the job of the previous attempt."""
        return f"{self.pk}-{self.dispatches}"

    @property
    def is_finished(self):
        return self.status in S.terminal()

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def progress_fraction(self):
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)

    # --- the one guarded write ---------------------------------------------------------

    def _transition(self, to_status, *, extra_filter=None, **fields):
        """Move to `to_status` only from an allowed status; return whether this call won."""
        now = fields.pop("now", None) or timezone.now()
        changes = {"status": to_status, "status_changed_at": now, **fields}
        # A compare-and-set UPDATE, not save(): the worker, the reconciler and an operator may
        # all act on the same run at once, and only one of them may win each move.
        won = (
            JobRun.objects.filter(pk=self.pk, status__in=ALLOWED_FROM[to_status])
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
        run_status_changed.send(sender=JobRun, run=self, status=str(status or self.status), old_status=old_status)

    # --- dispatch (the outbox) ---------------------------------------------------------

    @classmethod
    def mark_dispatched_many(cls, runs, now):
        """Move undispatched runs to queued (scheduled if run_after is later) in one UPDATE.

        Return the runs that moved; each now carries its new status and dispatch number. A
        single dispatch is a batch of one.
        """
        by_id = {str(run.pk): run for run in runs}
        with connection.cursor() as cursor:
            # The status guard makes a concurrent dispatcher (the outbox loop racing an on_commit
            # hook) match no row instead of pushing the run twice.
            cursor.execute(
                f"UPDATE {cls._meta.db_table} SET status = CASE WHEN run_after > %s THEN %s ELSE %s END, "
                "status_changed_at = %s, dispatches = dispatches + 1 "
                "WHERE id = ANY(%s::uuid[]) AND status = ANY(%s) RETURNING id, status, dispatches",
                [now, S.SCHEDULED, S.QUEUED, now, list(by_id), list(S.undispatched())],
            )
            rows = cursor.fetchall()
        moved = []
        for run_id, status, dispatches in rows:
            run = by_id[str(run_id)]
            old = run.status
            run.status, run.dispatches, run.status_changed_at = status, dispatches, now
            run._announce(old)
            moved.append(run)
        return moved

    def mark_undispatched(self, previous_status=None):
        """Put the run back into the outbox after Redis refused it."""
        old = self.status
        back = S.FAILED if previous_status == S.FAILED else S.PENDING
        won = self._transition(back, extra_filter={"status": self.status})
        if won:
            self._announce(old)
        return won

    def mark_lost_in_redis(self):
        """Redis no longer holds this waiting run (flush, restart, a dead popper): back to the outbox."""
        old = self.status
        won = self._transition(S.PENDING, extra_filter={"status__in": S.waiting(), "dispatches": self.dispatches})
        if won:
            self._announce(old)
        return won

    def insert(self):
        """INSERT this new run: the enqueue hot path (save() would compile the same SQL per row)."""
        fields = self._meta.local_concrete_fields
        sql = _INSERT_SQL.get(self._meta.db_table)
        if sql is None:
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            sql = _INSERT_SQL[self._meta.db_table] = (
                f"INSERT INTO {self._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})")
        with connection.cursor() as cursor:
            # One round trip; a one-row COPY takes two (measured ~10% fewer enqueues/s).
            cursor.execute(sql, _row(self, fields))
        self._state.adding = False
        self._state.db = connection.alias

    @classmethod
    def insert_many(cls, runs):
        """INSERT new runs with one COPY, with the conversions save() applies."""
        fields = cls._meta.local_concrete_fields
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        # Django wraps execute() errors (IntegrityError for a unique key) but not copy()'s.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            # COPY, not a multi-row INSERT: psycopg would re-parse a statement with thousands of
            # placeholders on every call, which cost more than the round trips it saves.
            with cursor.copy(f"COPY {cls._meta.db_table} ({columns}) FROM STDIN") as copy:
                for run in runs:
                    copy.write_row(_row(run, fields))
        for run in runs:
            run._state.adding = False
            run._state.db = connection.alias

    # --- execution ----------------------------------------------------------------------
    # The run row carries the live attempt (worker, started_at); its JobAttempt row is written
    # when the attempt ends, in the same statement or transaction as the run's new status.

    @classmethod
    def claim(cls, run_id, worker_name, worker_host, worker_pid, now=None):
        """Atomically take a run for execution; return (run, unsaved attempt) or None.

        Safe to repeat with the same `now` after an error that hid whether it committed: a run
        already claimed by this worker at exactly `now` is returned again (the claim's token).
        """
        now = now or timezone.now()
        # Every column: a deferred one would cost a query the first time the runner touched it.
        columns = ", ".join(f.column for f in cls._meta.concrete_fields)
        with connection.cursor() as cursor:
            # One UPDATE ... RETURNING (the hot path): of two workers handed the same run, exactly
            # one gets a row back.
            cursor.execute(
                f"WITH {NO_FSYNC} UPDATE {cls._meta.db_table} SET status = %s, attempt = attempt + 1, "
                "started_at = %s, status_changed_at = %s, worker_name = %s, worker_host = %s, worker_pid = %s, "
                "progress_done = 0, progress_message = '', progress_updated_at = NULL "
                "WHERE id = %s AND status = ANY(%s) AND cancel_requested_at IS NULL "
                f"AND (run_after IS NULL OR run_after <= %s) AND {NO_FSYNC_APPLIED} RETURNING {columns}",
                [S.RUNNING, now, now, worker_name, worker_host, worker_pid, str(run_id),
                 list(S.claimable()), now + timedelta(seconds=1)],
            )
            row = cursor.fetchone()
            if row is None:
                # Our own earlier claim, committed while its reply was lost (a repeat after an error).
                cursor.execute(
                    f"SELECT {columns} FROM {cls._meta.db_table} WHERE id = %s AND status = %s "
                    "AND worker_name = %s AND worker_pid = %s AND started_at = %s",
                    [str(run_id), S.RUNNING, worker_name, worker_pid, now],
                )
                row = cursor.fetchone()
                if row is None:
                    return None
        fields = cls._meta.concrete_fields
        values = [f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
                  for f, v in zip(fields, row)]
        run = cls.from_db(connection.alias, [f.attname for f in fields], values)
        run._announce(None, "started")  # the claim does not read the status it replaced
        return run, run.current_attempt()

    def current_attempt(self):
        """The attempt in progress, as an unsaved JobAttempt built from this row."""
        from .attempt import JobAttempt

        return JobAttempt(
            run=self, number=self.attempt, worker_name=self.worker_name, worker_host=self.worker_host,
            worker_pid=self.worker_pid, started_at=self.started_at or timezone.now(),
        )

    def record_progress(self, done, total, message, now=None):
        """Write progress; return (still running, cancel requested) in the same round trip."""
        now = now or timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {NO_FSYNC} UPDATE {self._meta.db_table} SET progress_done = %s, progress_total = %s, "
                "progress_message = %s, progress_updated_at = %s "
                f"WHERE id = %s AND status = %s AND attempt = %s AND {NO_FSYNC_APPLIED} RETURNING cancel_requested_at",
                [done, total, (message or "")[:500], now, str(self.pk), S.RUNNING, self.attempt],
            )
            row = cursor.fetchone()
        self.progress_done, self.progress_total = done, total
        self.progress_message, self.progress_updated_at = (message or "")[:500], now
        if row is None:
            return False, False
        return True, row[0] is not None

    def attempt_recorded(self, attempt, outcome):
        """Whether this attempt ended with `outcome`: a write that committed though its reply was lost."""
        from .attempt import JobAttempt

        return JobAttempt.objects.filter(run_id=self.pk, number=attempt.number, outcome=outcome).exists()

    def mark_succeeded(self, attempt, value, progress=None, now=None):
        """Record success, the last progress report and the attempt row in one statement.

        Raise TypeError if the value is not JSON; return whether this attempt still owned the run.
        """
        from .attempt import JobAttempt

        result = json.dumps(_cap_result(value))
        now = now or timezone.now()
        had_progress = progress is not None
        done, total, message = progress or (self.progress_done, self.progress_total, self.progress_message)
        message = (message or "")[:500]
        with connection.cursor() as cursor:
            # The hot path: one round trip instead of BEGIN, two writes and COMMIT. Data-modifying
            # CTEs run to completion together: both rows or neither.
            cursor.execute(
                f"""WITH done AS (
                    UPDATE {self._meta.db_table} SET status = %s, status_changed_at = %s, finished_at = %s,
                        result = %s::jsonb, error_type = '', error_message = '', error_traceback = '',
                        progress_done = %s, progress_total = %s, progress_message = %s,
                        progress_updated_at = %s
                    WHERE id = %s AND status = ANY(%s) AND attempt = %s RETURNING id
                ), recorded AS (
                    INSERT INTO {JobAttempt._meta.db_table} (run_id, number, worker_name, worker_host,
                        worker_pid, started_at, finished_at, outcome, error_type, error_message, traceback)
                    SELECT id, %s, %s, %s, %s, %s, %s, %s, '', '', '' FROM done RETURNING id
                ) SELECT id FROM recorded""",
                [S.SUCCEEDED, now, now, result, done, total, message, now, str(self.pk),
                 list(ALLOWED_FROM[S.SUCCEEDED]), attempt.number,
                 attempt.number, attempt.worker_name, attempt.worker_host, attempt.worker_pid,
                 attempt.started_at, now, AttemptOutcome.SUCCEEDED],
            )
            row = cursor.fetchone()
        if row is None:
            return False
        old = self.status
        self.status, self.status_changed_at, self.finished_at = S.SUCCEEDED, now, now
        self.result = json.loads(result)
        self.error_type = self.error_message = self.error_traceback = ""
        self.progress_done, self.progress_total, self.progress_message = done, total, message
        attempt.pk, attempt.outcome, attempt.finished_at = row[0], AttemptOutcome.SUCCEEDED, now
        attempt._state.adding = False
        if had_progress:
            run_progress.send(sender=JobRun, run=self, done=done, total=total, message=message)
        self._announce(old)
        return True

    def mark_attempt_failed(self, attempt, outcome, exc_type, message, traceback="", now=None, rng=None):
        """Record a failed attempt and decide: another attempt (failed, run_after set) or dead."""
        import random

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
                    S.FAILED, extra_filter={"attempt": attempt.number}, now=now,
                    run_after=now + timedelta(seconds=delay), **error,
                )
            else:
                won = self._transition(
                    S.DEAD, extra_filter={"attempt": attempt.number}, now=now, finished_at=now, **error,
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
        was_running = self.status == S.RUNNING
        if was_running and attempt is None:
            attempt = self.current_attempt()
        with transaction.atomic():
            extra = {"attempt": attempt.number} if attempt else None
            won = self._transition(S.CANCELLED, extra_filter=extra, now=now, finished_at=now,
                                   cancel_requested_at=self.cancel_requested_at or now)
            if won and attempt is not None:
                attempt.finish(AttemptOutcome.CANCELLED, now=now)
        if won:
            self._announce(old)
        return won

    def request_cancel(self, now=None):
        """Ask a running run to stop at its next progress report."""
        now = now or timezone.now()
        updated = JobRun.objects.filter(pk=self.pk, status=S.RUNNING, cancel_requested_at__isnull=True).update(
            cancel_requested_at=now
        )
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
                S.PENDING, extra_filter={"attempt": attempt.number, "status": S.RUNNING}, now=now,
                max_attempts=models.F("max_attempts") + 1, run_after=None,
            )
            if won:
                attempt.finish(AttemptOutcome.INTERRUPTED, now=now, error_type="jobs.exceptions.WorkerShutdown",
                               error_message="worker shut down before the task finished")
                self.refresh_from_db(fields=["max_attempts"])
        if won:
            self._announce(old)
        return won
