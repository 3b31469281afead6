"""Count what happens to runs in this process, from the platform's run signals.

Connected in JobsConfig.ready(), so workers, the web and the scheduler all count what they do
(a worker runs tasks; the web cancels waiting runs; the scheduler recovers lost ones).
Wait time is from the later of enqueue and `run_after` (a retry's backoff) to the start;
duration from the start of the attempt to its end.
"""

from django.dispatch import receiver
from django.utils import timezone

from ..signals import run_progress, run_status_changed
from . import counter, histogram, queue_label, task_label

LABELS = ("task", "queue")

STARTED = counter("jobs_task_started_total", "Attempts started.", LABELS)
SUCCEEDED = counter("jobs_task_succeeded_total", "Runs that succeeded.", LABELS)
FAILED = counter("jobs_task_failed_total", "Attempts that failed (retried or dead).", LABELS)
RETRIED = counter("jobs_task_retried_total", "Failed attempts that get another attempt.", LABELS)
DEAD = counter("jobs_task_dead_total", "Runs that exhausted their attempts.", LABELS)
CANCELLED = counter("jobs_task_cancelled_total", "Runs cancelled (waiting or running).", LABELS)
DURATION = histogram("jobs_task_duration_seconds", "Attempt run time, by how it ended (succeeded, failed, dead).", (*LABELS, "outcome"))
WAIT = histogram("jobs_task_wait_seconds", "Time from enqueue (or run_after) to the attempt's start.", LABELS)
PROGRESS = counter("jobs_task_progress_events_total", "Progress reports written to the ledger.", LABELS)

ENDINGS = {
    "succeeded": (SUCCEEDED,),
    "failed": (FAILED, RETRIED),
    "dead": (FAILED, DEAD),
    "cancelled": (CANCELLED,),
}
TIMED_ENDINGS = {"succeeded", "failed", "dead"}


def _labels(run):
    return task_label(run.task_path), queue_label(run.queue)


@receiver(run_status_changed, dispatch_uid="jobs.metrics.status")
def count_status(sender, run, status, **kwargs):
    """Count the run's new status and observe its wait or run time."""
    labels = _labels(run)
    if status == "started":
        STARTED.labels(*labels).inc()
        if run.started_at is not None:
            since = max(filter(None, (run.enqueued_at, run.run_after)))
            WAIT.labels(*labels).observe(max(0.0, (run.started_at - since).total_seconds()))
        return
    for metric in ENDINGS.get(status, ()):
        metric.labels(*labels).inc()
    # Not for cancels: a cancelled waiting run's started_at is an earlier attempt's. A retried
    # run's finished_at is still empty (the run is not finished): its attempt ends now.
    if status in TIMED_ENDINGS and run.started_at is not None:
        ended = run.finished_at or timezone.now()
        DURATION.labels(*labels, status).observe(max(0.0, (ended - run.started_at).total_seconds()))


@receiver(run_progress, dispatch_uid="jobs.metrics.progress")
def count_progress(sender, run, **kwargs):
    PROGRESS.labels(*_labels(run)).inc()
