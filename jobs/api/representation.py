"""Runs as the API shows them: a summary for lists, the detail with arguments, result and attempts."""

from django.urls import reverse

from ..status import RunStatus


def _iso(value):
    return value.isoformat() if value else None


def _seconds(start, end):
    return round((end - start).total_seconds(), 6) if start and end else None


def run_summary(run):
    """A run as the list shows it."""
    return {
        "id": str(run.pk),
        "url": reverse("jobs:api-run", args=[run.pk]),
        "task": run.task_path,
        "status": run.status,
        "queue": run.queue,
        "lane": run.lane,
        "priority": run.priority,
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "trigger": run.trigger,
        "enqueued_at": _iso(run.enqueued_at),
        "run_after": _iso(run.run_after),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "progress": {"done": run.progress_done, "total": run.progress_total, "message": run.progress_message,
                     "fraction": run.progress_fraction},
        "error_type": run.error_type or None,
        "parent": str(run.parent_id) if run.parent_id else None,
        "root": str(run.root_id) if run.root_id else None,
        "retry_of": str(run.retry_of_id) if run.retry_of_id else None,
        "request_id": run.request_id or None,
    }


def run_detail(run):
    """A run with its arguments, result, error and attempts."""
    return {
        **run_summary(run),
        "args": run.args,
        "kwargs": run.kwargs,
        # The ledger only keeps JSON results (capped at JOBS_RESULT_MAX_BYTES, then a __truncated__ marker).
        "result": run.result if run.status == RunStatus.SUCCEEDED else None,
        "error_message": run.error_message or None,
        "worker": run.worker_name or None,
        "cancel_requested_at": _iso(run.cancel_requested_at),
        "attempts": [
            {"number": a.number, "outcome": a.outcome, "worker": a.worker_name or None,
             "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
             "duration_seconds": _seconds(a.started_at, a.finished_at),
             "error_type": a.error_type or None, "error_message": a.error_message or None}
            for a in run.attempts.all()
        ],
    }
