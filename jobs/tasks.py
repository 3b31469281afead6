"""The job platform's own maintenance tasks."""

from django.tasks import task

from .conf import jobs_settings
from .queues import LOW_PRIORITY
from .retention import purge_finished_runs
from .retry import RetryPolicy


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none())
def purge_old_runs(days=None):
    """Purge finished runs older than JOBS_RETENTION_DAYS (0 turns retention off)."""
    days = jobs_settings.RETENTION_DAYS if days is None else days
    if not days:
        return {"purged": 0, "retention_days": 0}
    return {"purged": purge_finished_runs(days), "retention_days": days}
