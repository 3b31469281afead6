"""A succeeded attempt on its way to the ledger, alone or in the same statement as the next claim."""

import json

from django.db import connection

from ..status import AttemptOutcome, RunStatus
from .run import ALLOWED_FROM

S = RunStatus


class Success:
    """A succeeded attempt on its way to the ledger: written alone, or with the worker's next claim."""

    def __init__(self, run, attempt, result, progress, finished_at):
        self.run, self.attempt, self.result, self.finished_at = run, attempt, result, finished_at
        self.had_progress = progress is not None
        done, total, message = progress or (run.progress_done, run.progress_total, run.progress_message)
        self.progress = (done, total, (message or "")[:500])
        self.won = None  # unknown until written; then whether the run was still this attempt's

    def ctes(self):
        """The CTEs `done` (the run row) and `recorded` (the attempt row's id), and their parameters."""
        from .attempt import JobAttempt

        run, attempt, now = self.run, self.attempt, self.finished_at
        sql = f"""
            done AS (
                UPDATE {run._meta.db_table} SET status = %s, status_changed_at = %s, finished_at = %s,
                    result = %s::jsonb, error_type = '', error_message = '', error_traceback = '',
                    progress_done = %s, progress_total = %s, progress_message = %s,
                    progress_updated_at = %s
                WHERE id = %s AND status = ANY(%s) AND attempt = %s RETURNING id
            ),
            recorded AS (
                INSERT INTO {JobAttempt._meta.db_table} (run_id, number, worker_name, worker_host,
                    worker_pid, started_at, finished_at, outcome, error_type, error_message, traceback)
                SELECT id, %s, %s, %s, %s, %s, %s, %s, '', '', '' FROM done RETURNING id
            )"""
        params = [S.SUCCEEDED, now, now, self.result, *self.progress, now, str(run.pk),
                  list(ALLOWED_FROM[S.SUCCEEDED]), attempt.number,
                  attempt.number, attempt.worker_name, attempt.worker_host, attempt.worker_pid,
                  attempt.started_at, now, AttemptOutcome.SUCCEEDED]
        return sql, params

    def record(self):
        """Write the success in its own statement; return whether it won."""
        sql, params = self.ctes()
        with connection.cursor() as cursor:
            # The hot path: one round trip instead of BEGIN, two writes and COMMIT.
            cursor.execute(f"WITH {sql} SELECT id FROM recorded", params)
            row = cursor.fetchone()
        return self.recorded(row[0] if row else None)

    def recorded(self, attempt_id):
        """Mirror a written success on the in-memory run and attempt; return whether it won."""
        self.won = attempt_id is not None
        if self.won:
            run, now = self.run, self.finished_at
            run.status, run.status_changed_at, run.finished_at = S.SUCCEEDED, now, now
            run.result = json.loads(self.result)
            run.error_type = run.error_message = run.error_traceback = ""
            run.progress_done, run.progress_total, run.progress_message = self.progress
            self.attempt.pk, self.attempt.outcome, self.attempt.finished_at = attempt_id, AttemptOutcome.SUCCEEDED, now
            self.attempt._state.adding = False
        return self.won
