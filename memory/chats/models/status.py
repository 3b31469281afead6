"""The life of every chat job row (ingestion, analysis run, experiment): one status set, one set of verbs."""

from django.db import models
from django.utils import timezone


class ChatJobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class JobStateMixin(models.Model):
    """Status, times and the error of a row a job works on; transitions are guarded verbs."""

    status = models.CharField(max_length=10, choices=ChatJobStatus.choices, default=ChatJobStatus.PENDING,
                              db_index=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The ledger run doing the work: pages follow it live on ws/runs/<id>/.
    run_id = models.CharField(max_length=36, blank=True)

    class Meta:
        abstract = True

    def mark_running(self):
        """Start (or restart, after a retry) the work; returns False if it already finished."""
        # A retried or duplicated run must not reopen a finished row (another run got there first).
        updated = type(self).objects.filter(
            pk=self.pk, status__in=[ChatJobStatus.PENDING, ChatJobStatus.RUNNING, ChatJobStatus.FAILED],
        ).update(status=ChatJobStatus.RUNNING, started_at=timezone.now(), finished_at=None, error_message="")
        if updated:
            self.refresh_from_db()
        return bool(updated)

    def mark_completed(self, **fields):
        self._finish(ChatJobStatus.COMPLETED, "", fields)

    def mark_failed(self, message, **fields):
        self._finish(ChatJobStatus.FAILED, str(message)[:5000], fields)

    def _finish(self, status, error, fields):
        if self.status != ChatJobStatus.RUNNING:
            raise ValueError(f"cannot finish a {self.status} {type(self).__name__}")
        self.status, self.error_message, self.finished_at = status, error, timezone.now()
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", "error_message", "finished_at", *fields])

    def reset_for_rerun(self):
        """Put a finished row back to pending so an admin action can run it again."""
        self.status, self.error_message, self.started_at, self.finished_at = ChatJobStatus.PENDING, "", None, None
        self.save(update_fields=["status", "error_message", "started_at", "finished_at"])

    @property
    def progress_percent(self):
        return 100 if self.status == ChatJobStatus.COMPLETED else 0

    @property
    def duration_seconds(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
