"""A run's execution hot path: claim, progress and success, each one SQL statement.

The run row carries the live attempt (worker, started_at); its JobAttempt row is written when
the attempt ends, in the same statement or transaction as the run's new status.
"""

import json
from datetime import timedelta

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.utils import timezone

from ..conf import jobs_settings
from ..signals import run_progress
from ..status import AttemptOutcome, RunStatus
from .attempt import JobAttempt
from .run_transitions import ALLOWED_FROM

# A claim and a progress report commit without waiting for their WAL flush (one fsync each, most
# of a no-op job's time): neither needs to be durable on its own. The attempt's outcome is
# written with a normal, durable commit, and a durable commit flushes all the WAL before it, so
# the claim and the last progress report are on disk by the time the outcome is. Only a
# Postgres crash in between can lose a claim, and then the run is simply run again (at least
# once). set_config(..., true) lasts for the statement's own transaction, its commit included.
NO_FSYNC = "no_fsync AS (SELECT set_config('synchronous_commit', 'off', true) AS value)"
NO_FSYNC_APPLIED = "(SELECT value FROM no_fsync) = 'off'"


ONLY_WHEN_ASKED = 2**62  # a psycopg prepare_threshold that automatic preparing never reaches


class PreparedCursor(ServerBindingCursor):
    """Server-side binding, and every statement prepared on its first use on the connection.

    Django binds on the client and never prepares: each job's claim and outcome were sent as
    new SQL text that Postgres parsed and planned again. Prepared, the server plans each
    statement once per connection, and the client only sends the parameters.
    """

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def hot_cursor():
    """A cursor for the worker's per-job statements: prepared unless JOBS_PREPARED_STATEMENTS is off.

    Wrapped like any Django cursor: errors are Django's and the statements are counted in tests.
    """
    if not jobs_settings.PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()  # what connection.cursor() does first
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparing off (None also ignores prepare=True). A threshold
        # no query reaches prepares only what asks for it: Django's own queries never do.
        raw.prepare_threshold = ONLY_WHEN_ASKED
    return connection._prepare_cursor(PreparedCursor(raw))


def _sql_in(statuses):
    """A constant status list as SQL (`IN ('a', 'b')`): no array to adapt per statement."""
    values = [str(status) for status in statuses]
    if not all(value.isidentifier() for value in values):  # TextChoices values, never user input
        raise ValueError(f"not a status: {values}")
    return "IN (" + ", ".join(f"'{value}'" for value in values) + ")"


CLAIMABLE = _sql_in(RunStatus.claimable())
SUCCEEDS_FROM = _sql_in(ALLOWED_FROM[RunStatus.SUCCEEDED])
_columns = {}  # model -> (its concrete fields, their attnames, their columns as SQL)


def _columns_of(model):
    columns = _columns.get(model)
    if columns is None:
        fields = model._meta.concrete_fields
        columns = _columns[model] = (fields, [f.attname for f in fields], ", ".join(f.column for f in fields))
    return columns


def _cap_result(value):
    """Keep results JSON and small; a cut result says so and how big it was."""
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the task's return value is not JSON-serialisable: {exc}") from None
    limit = jobs_settings.RESULT_MAX_BYTES
    if len(encoded) <= limit:
        return value
    return {"__truncated__": True, "size_bytes": len(encoded), "preview": encoded[: min(1000, limit // 2)]}


class RunExecution:
    """JobRun's worker side: the statements a worker runs for every job."""

    @classmethod
    def claim(cls, run_id, worker_name, worker_host, worker_pid, now=None):
        """Atomically take a run for execution; return (run, unsaved attempt) or None.

        Safe to repeat with the same `now` after an error that hid whether it committed: a run
        already claimed by this worker at exactly `now` is returned again (the claim's token).
        """
        now = now or timezone.now()
        # Every column: a deferred one would cost a query the first time the runner touched it.
        fields, attnames, columns = _columns_of(cls)
        with hot_cursor() as cursor:
            # One UPDATE ... RETURNING (the hot path): of two workers handed the same run, exactly
            # one gets a row back.
            cursor.execute(
                f"WITH {NO_FSYNC} UPDATE {cls._meta.db_table} SET status = %s, attempt = attempt + 1, "
                "started_at = %s, status_changed_at = %s, worker_name = %s, worker_host = %s, worker_pid = %s, "
                "progress_done = 0, progress_message = '', progress_updated_at = NULL "
                f"WHERE id = %s AND status {CLAIMABLE} AND cancel_requested_at IS NULL "
                f"AND (run_after IS NULL OR run_after <= %s) AND {NO_FSYNC_APPLIED} RETURNING {columns}",
                [RunStatus.RUNNING, now, now, worker_name, worker_host, worker_pid, str(run_id),
                 now + timedelta(seconds=1)],
            )
            row = cursor.fetchone()
            if row is None:
                # Our own earlier claim, committed while its reply was lost (a repeat after an error).
                cursor.execute(
                    f"SELECT {columns} FROM {cls._meta.db_table} WHERE id = %s AND status = %s "
                    "AND worker_name = %s AND worker_pid = %s AND started_at = %s",
                    [str(run_id), RunStatus.RUNNING, worker_name, worker_pid, now],
                )
                row = cursor.fetchone()
                if row is None:
                    return None
        values = [f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
                  for f, v in zip(fields, row)]
        run = cls.from_db(connection.alias, attnames, values)
        run._announce(None, "started")  # the claim does not read the status it replaced
        return run, run.current_attempt()

    def current_attempt(self):
        """The attempt in progress, as an unsaved JobAttempt built from this row."""
        return JobAttempt(
            run=self, number=self.attempt, worker_name=self.worker_name, worker_host=self.worker_host,
            worker_pid=self.worker_pid, started_at=self.started_at or timezone.now(),
        )

    def record_progress(self, done, total, message, now=None):
        """Write progress; return (still running, cancel requested) in the same round trip."""
        now = now or timezone.now()
        with hot_cursor() as cursor:
            cursor.execute(
                f"WITH {NO_FSYNC} UPDATE {self._meta.db_table} SET progress_done = %s, progress_total = %s, "
                "progress_message = %s, progress_updated_at = %s "
                f"WHERE id = %s AND status = %s AND attempt = %s AND {NO_FSYNC_APPLIED} RETURNING cancel_requested_at",
                [done, total, (message or "")[:500], now, str(self.pk), RunStatus.RUNNING, self.attempt],
            )
            row = cursor.fetchone()
        self.progress_done, self.progress_total = done, total
        self.progress_message, self.progress_updated_at = (message or "")[:500], now
        if row is None:
            return False, False
        return True, row[0] is not None

    def attempt_recorded(self, attempt, outcome):
        """Whether this attempt ended with `outcome`: a write that committed though its reply was lost."""
        return JobAttempt.objects.filter(run_id=self.pk, number=attempt.number, outcome=outcome).exists()

    def mark_succeeded(self, attempt, value, progress=None, now=None):
        """Record success, the last progress report and the attempt row in one statement.

        Raise TypeError if the value is not JSON; return whether this attempt still owned the run.
        """
        result = json.dumps(_cap_result(value))
        now = now or timezone.now()
        had_progress = progress is not None
        done, total, message = progress or (self.progress_done, self.progress_total, self.progress_message)
        message = (message or "")[:500]
        with hot_cursor() as cursor:
            # The hot path: one round trip instead of BEGIN, two writes and COMMIT. Data-modifying
            # CTEs run to completion together: both rows or neither.
            cursor.execute(
                f"""WITH done AS (
                    UPDATE {self._meta.db_table} SET status = %s, status_changed_at = %s, finished_at = %s,
                        result = %s::jsonb, error_type = '', error_message = '', error_traceback = '',
                        progress_done = %s, progress_total = %s, progress_message = %s,
                        progress_updated_at = %s
                    WHERE id = %s AND status {SUCCEEDS_FROM} AND attempt = %s RETURNING id
                ), recorded AS (
                    INSERT INTO {JobAttempt._meta.db_table} (run_id, number, worker_name, worker_host,
                        worker_pid, started_at, finished_at, outcome, error_type, error_message, traceback)
                    SELECT id, %s, %s, %s, %s, %s, %s, %s, '', '', '' FROM done RETURNING id
                ) SELECT id FROM recorded""",
                [RunStatus.SUCCEEDED, now, now, result, done, total, message, now, str(self.pk), attempt.number,
                 attempt.number, attempt.worker_name, attempt.worker_host, attempt.worker_pid,
                 attempt.started_at, now, AttemptOutcome.SUCCEEDED],
            )
            row = cursor.fetchone()
        if row is None:
            return False
        old = self.status
        self.status, self.status_changed_at, self.finished_at = RunStatus.SUCCEEDED, now, now
        self.result = json.loads(result)
        self.error_type = self.error_message = self.error_traceback = ""
        self.progress_done, self.progress_total, self.progress_message = done, total, message
        attempt.pk, attempt.outcome, attempt.finished_at = row[0], AttemptOutcome.SUCCEEDED, now
        attempt._state.adding = False
        if had_progress:
            run_progress.send(sender=self._meta.concrete_model, run=self, done=done, total=total, message=message)
        self._announce(old)
        return True
