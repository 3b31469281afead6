"""Correlation ids: the web request a line of log (or a run) belongs to, and the run it is part of.

The web sets the request id (project's request-id middleware) for the life of a request; runs
enqueued meanwhile record it, their children inherit it, and every line logged while a run
executes carries the run's id, task, attempt, queue and worker and that request id.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from .context import current_run

# The X-Request-ID of the request being served in this thread or task, or "".
current_request_id = ContextVar("jobs_current_request_id", default="")


@contextmanager
def request_scope(request_id):
    """Attribute the logs and the enqueues in this block to the request `request_id`."""
    token = current_request_id.set(request_id)
    try:
        yield
    finally:
        current_request_id.reset(token)


def request_id_for_new_run(parent):
    """The request id a new run records: its parent run's, else the current request's."""
    if parent is not None:
        return getattr(parent, "request_id", "") or ""
    return current_request_id.get()


def log_context():
    """The correlation fields of a log line written now (empty values left out)."""
    fields = {}
    run = current_run.get()
    if run is not None:
        fields.update({
            "run_id": str(run.pk), "task": run.task_path, "attempt": run.attempt,
            "queue": run.queue, "worker": run.worker_name,
        })
    request_id = current_request_id.get() or (getattr(run, "request_id", "") if run is not None else "")
    if request_id:
        fields["request_id"] = request_id
    return fields
