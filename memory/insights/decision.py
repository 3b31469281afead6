"""Decisions the team took, with the analysis job's quality score and findings."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from memory.core.tenancy import ScopedQuerySet


class Decision(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="decisions")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="decisions")
    title = models.CharField(max_length=300)
    context = models.TextField(blank=True)
    options = models.JSONField(default=list, blank=True)
    chosen = models.CharField(max_length=300, blank=True)
    rationale = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    quality_score = models.FloatField(null=True, blank=True)
    findings = models.JSONField(default=list, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self):
        return self.title
