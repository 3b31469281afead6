"""The upkeep records of documents: the search query log, health checks and backups."""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["Backup", "HealthCheck", "SearchQueryLog"]


class SearchQueryLog(models.Model):
    # The one workspace searched; empty when the user searched several at once.
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    query = models.CharField(max_length=500)
    results = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    took_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="search_log_created_idx")]


class HealthCheck(models.Model):
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    results = models.JSONField(default=dict)  # {"storage": {"ok": .., "detail": ..}, "database": .., ...}

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"


class Backup(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ROTATED = "rotated", "Rotated out"

    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices)
    database_path = models.CharField(max_length=500, blank=True)
    files_path = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    took_s = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
