"""What a running task can see: its run, its progress reporter, and who enqueues follow-ups."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.tasks import TaskContext

# The run executing in this thread: enqueues made inside it become its children.
current_run = ContextVar("jobs_current_run", default=None)
# Who is enqueueing (a user, a schedule); set with triggered_by().
current_origin = ContextVar("jobs_current_origin", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobContext(TaskContext):
    """Django's TaskContext plus progress reporting and cancellation checks."""

    run: object = field(repr=False)
    reporter: object = field(repr=False)

    @property
    def run_id(self):
        return str(self.run.pk)

    def report_progress(self, done, total=None, message=""):
        """Record progress (throttled); raises JobCancelled when the run was cancelled."""
        self.reporter.report(done, total, message)

    def check_cancelled(self):
        """Raise JobCancelled now if an operator asked this run to stop."""
        self.reporter.check_cancelled()


@contextmanager
def triggered_by(*, user=None, schedule=None, trigger=None, retry_of=None):
    """Attribute the enqueues in this block to a user, a schedule or a manual retry."""
    token = current_origin.set({"user": user, "schedule": schedule, "trigger": trigger, "retry_of": retry_of})
    try:
        yield
    finally:
        current_origin.reset(token)
