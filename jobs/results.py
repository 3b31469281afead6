"""Django TaskResult objects built from ledger rows."""

from django.tasks import TaskResult, TaskResultStatus
from django.tasks.base import TaskError

from .status import AttemptOutcome, RunStatus

_TO_DJANGO = {
    RunStatus.PENDING: TaskResultStatus.READY,
    RunStatus.QUEUED: TaskResultStatus.READY,
    RunStatus.SCHEDULED: TaskResultStatus.READY,
    RunStatus.FAILED: TaskResultStatus.READY,  # will run again
    RunStatus.RUNNING: TaskResultStatus.RUNNING,
    RunStatus.SUCCEEDED: TaskResultStatus.SUCCESSFUL,
    RunStatus.DEAD: TaskResultStatus.FAILED,
    RunStatus.CANCELLED: TaskResultStatus.FAILED,
}


def to_task_result(run, task=None, attempts=None):
    """Return the TaskResult of a run; `task` and `attempts` save queries when the caller has them."""
    from .definitions import get_task

    if task is None:
        task = get_task(run.task_path)
    if attempts is None:
        attempts = list(run.attempts.all()) if run.attempt else []
    errors = [
        TaskError(exception_class_path=a.error_type, traceback=a.traceback or a.error_message)
        for a in attempts
        if a.error_type and a.outcome != AttemptOutcome.SUCCEEDED
    ]
    result = TaskResult(
        task=task,
        id=str(run.pk),
        status=_TO_DJANGO[run.status],
        enqueued_at=run.enqueued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        last_attempted_at=attempts[-1].started_at if attempts else None,
        args=run.args,
        kwargs=run.kwargs,
        backend=task.backend,
        errors=errors,
        worker_ids=[a.worker_name for a in attempts],
    )
    if run.status == RunStatus.SUCCEEDED:
        object.__setattr__(result, "_return_value", run.result)
    return result
