"""Worker processes and their heartbeats, kept in Postgres so a Redis flush cannot hide a dead one."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

from ..conf import jobs_settings


class WorkerQuerySet(models.QuerySet):
    def alive(self, now=None):
        cutoff = (now or timezone.now()) - timedelta(seconds=jobs_settings.WORKER_TIMEOUT_SECONDS)
        return self.filter(stopped_at__isnull=True, heartbeat_at__gte=cutoff)

    def silent(self, now=None):
        """Workers whose heartbeat stopped without a clean exit."""
        cutoff = (now or timezone.now()) - timedelta(seconds=jobs_settings.WORKER_TIMEOUT_SECONDS)
        return self.filter(stopped_at__isnull=True, heartbeat_at__lt=cutoff)


class Worker(models.Model):
    name = models.CharField(max_length=255, unique=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    queues = models.JSONField(default=list)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    current_run = models.ForeignKey(
        "jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    jobs_done = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["-heartbeat_at"]

    def __str__(self):
        return self.name

    def is_alive(self, now=None):
        if self.stopped_at is not None:
            return False
        age = (now or timezone.now()) - self.heartbeat_at
        return age.total_seconds() <= jobs_settings.WORKER_TIMEOUT_SECONDS

    @classmethod
    def register(cls, name, host, pid, queues):
        worker, _ = cls.objects.update_or_create(
            name=name,
            defaults={"host": host, "pid": pid, "queues": list(queues), "started_at": timezone.now(),
                      "heartbeat_at": timezone.now(), "stopped_at": None, "current_run": None},
        )
        return worker

    @classmethod
    def beat(cls, name, stats):
        """Record that the named worker is alive, with its counters; False if its row is gone."""
        return cls.objects.filter(name=name, stopped_at__isnull=True).update(
            heartbeat_at=timezone.now(), current_run_id=stats["current_run"],
            jobs_done=stats["done"], jobs_failed=stats["failed"],
        ) == 1

    @classmethod
    def mark_stopped(cls, name, stats):
        cls.objects.filter(name=name).update(
            stopped_at=timezone.now(), current_run=None, jobs_done=stats["done"], jobs_failed=stats["failed"]
        )
