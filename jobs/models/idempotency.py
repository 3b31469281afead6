"""Idempotency keys of POST /api/runs/: a retried request gets the run the first one made."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the request's task, arguments and options: the same key with another body is refused.
    request_digest = models.CharField(max_length=64)
    # Purging the run (retention) forgets its key too.
    run = models.ForeignKey("jobs.JobRun", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Two requests with the same key race here; the loser's transaction (and its run) rolls back.
            models.UniqueConstraint(fields=["user", "key"], name="jobs_idempotency_user_key"),
        ]

    def __str__(self):
        return f"{self.key} -> {self.run_id}"
