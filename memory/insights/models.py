"""What the analysis jobs conclude: reflections over recent memories and activity anomalies."""

from django.db import models
from django.utils import timezone

from memory.core.tenancy import ScopedQuerySet


class Reflection(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="reflections")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="reflections")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    summary = models.TextField()
    key_insights = models.JSONField(default=list, blank=True)
    suggested_actions = models.JSONField(default=list, blank=True)
    source_memories = models.ManyToManyField("memory.Memory", blank=True, related_name="reflections")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.project} {self.window_start:%Y-%m-%d}..{self.window_end:%Y-%m-%d}"


class Anomaly(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="anomalies")
    project = models.ForeignKey("memory.Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="anomalies")
    kind = models.CharField(max_length=50, help_text="spike, drop, ...")
    metric = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    score = models.FloatField(help_text="robust z-score")
    details = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_at"]
        verbose_name_plural = "anomalies"

    def __str__(self):
        return f"{self.kind} {self.metric} ({self.score:.1f})"
