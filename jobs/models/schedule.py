"""Periodic schedules, stored in Postgres and edited in admin; fired by `manage.py jobs scheduler`."""

from django.db import models
from django.utils import timezone as dj_timezone


class MisfirePolicy(models.TextChoices):
    SKIP = "skip", "Skip missed fire times"
    RUN_ONCE = "run_once", "Run once for all missed fire times"
    CATCH_UP = "catch_up", "Catch up, at most N missed fire times"


class OverlapPolicy(models.TextChoices):
    SKIP = "skip", "Skip while the previous run is unfinished"
    ALLOW = "allow", "Allow overlapping runs"


class ScheduleQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)

    def due(self, now=None):
        return self.enabled().filter(next_fire_at__lte=now or dj_timezone.now())


class Schedule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    task_path = models.CharField("task", max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Fire every N seconds.")
    cron = models.CharField(max_length=120, blank=True, help_text="Or a cron expression, e.g. '0 2 * * *'.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="Time zone the cron expression is read in.")
    enabled = models.BooleanField(default=True)
    queue = models.CharField(max_length=64, blank=True, help_text="Override the task's queue.")
    priority = models.SmallIntegerField(null=True, blank=True, help_text="Override the task's priority (-100..100).")
    misfire_policy = models.CharField(max_length=10, choices=MisfirePolicy.choices, default=MisfirePolicy.RUN_ONCE)
    catch_up_limit = models.PositiveSmallIntegerField(default=3, help_text="For 'catch up': at most this many.")
    overlap_policy = models.CharField(max_length=10, choices=OverlapPolicy.choices, default=OverlapPolicy.SKIP)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey("jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(interval_seconds__isnull=False) & models.Q(cron=""))
                | (models.Q(interval_seconds__isnull=True) & ~models.Q(cron="")),
                name="jobs_schedule_interval_xor_cron",
            ),
        ]

    def __str__(self):
        return self.name
