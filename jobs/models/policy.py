"""Operator overrides of a task's policy, applied to new runs, with an audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TaskPolicy(models.Model):
    """Overrides for one task; an empty field keeps the value from the code."""

    task_path = models.CharField("task", max_length=255, unique=True)
    max_attempts = models.PositiveSmallIntegerField(null=True, blank=True)
    backoff = models.CharField(max_length=12, blank=True, choices=[("fixed", "fixed"), ("linear", "linear"),
                                                                    ("exponential", "exponential")])
    backoff_base = models.FloatField(null=True, blank=True, help_text="Seconds before the first retry.")
    backoff_cap = models.FloatField(null=True, blank=True, help_text="Longest wait in seconds.")
    soft_time_limit = models.FloatField(null=True, blank=True)
    hard_time_limit = models.FloatField(null=True, blank=True)
    priority = models.SmallIntegerField(null=True, blank=True)
    paused = models.BooleanField(default=False, help_text="New runs wait (pending) until resumed.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name_plural = "task policies"
        ordering = ["task_path"]

    def __str__(self):
        return self.task_path


class TaskPolicyChange(models.Model):
    """Who changed which override of which task, from what to what, and when (append-only)."""

    task_path = models.CharField(max_length=255, db_index=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changes = models.JSONField(default=dict, help_text='{"field": [before, after]}')

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self):
        return f"{self.task_path} @ {self.changed_at:%Y-%m-%d %H:%M}"
