"""Progress reports from inside a task: throttled ledger writes that double as cancel checks."""

import time


from .conf import jobs_settings
from .exceptions import JobCancelled
from .signals import run_progress


class ProgressReporter:
    """Coalesce a task's progress reports into at most one write per interval, never losing the last.

    The claim counts as the first write, so a task that reports and finishes within one interval
    costs no progress write at all: the runner hands the last report to the outcome's write.
    """

    def __init__(self, run, interval=None, clock=time.monotonic):
        self.run = run
        self.interval = jobs_settings.PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.clock = clock
        self._last_write = clock()
        self._pending = None
        self.writes = 0

    def report(self, done, total=None, message=""):
        if done < 0 or (total is not None and total < 0):
            raise ValueError("progress counts must not be negative")
        self._pending = (int(done), None if total is None else int(total), str(message or ""))
        if self.clock() - self._last_write >= self.interval:
            self.flush()

    def take_pending(self):
        """Return the unwritten last report (done, total, message) and forget it, or None."""
        pending, self._pending = self._pending, None
        return pending

    def flush(self):
        """Write the latest unwritten report; raise JobCancelled if the run was cancelled."""
        if self._pending is None:
            return
        done, total, message = self._pending
        self._pending = None
        self._last_write = self.clock()
        self.writes += 1
        running, cancel_requested = self.run.record_progress(done, total, message)
        run_progress.send(sender=type(self.run), run=self.run, done=done, total=total, message=message)
        if cancel_requested or not running:
            raise JobCancelled(f"run {self.run.pk} was cancelled")

    def check_cancelled(self):
        from .models import JobRun

        row = JobRun.objects.filter(pk=self.run.pk).values_list("status", "cancel_requested_at").first()
        if row is None or row[0] != "running" or row[1] is not None:
            raise JobCancelled(f"run {self.run.pk} was cancelled")
