"""One row per attempt of a run: the history that retries must not overwrite."""

from django.db import models
from django.utils import timezone

from ..status import AttemptOutcome


class JobAttempt(models.Model):
    run = models.ForeignKey("jobs.JobRun", on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    worker_name = models.CharField(max_length=255, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING)
    error_type = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="jobs_attempt_run_number_uniq")]
        # The Queues page counts failed attempts of the last 24 h.
        indexes = [models.Index(fields=["-finished_at"], name="jobs_attempt_finished_idx")]

    def __str__(self):
        return f"{self.run_id} #{self.number} {self.outcome}"

    def finish(self, outcome, now=None, **error):
        """Close this attempt with its outcome and, for failures, its error."""
        self.outcome = outcome
        self.finished_at = now or timezone.now()
        for name, value in error.items():
            setattr(self, name, value)
        if self._state.adding:  # the live attempt is only written when it ends
            self.save(force_insert=True)
        else:
            self.save(update_fields=["outcome", "finished_at", *error])

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at
