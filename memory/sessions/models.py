"""Conversations with the assistant, each with its cached retrieval context."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from memory.core.tenancy import ScopedQuerySet


class SessionQuerySet(ScopedQuerySet):
    def idle_since(self, cutoff):
        return self.filter(last_active_at__lt=cutoff)


class Session(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="sessions")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_active_at = models.DateTimeField(default=timezone.now, db_index=True)
    context_cache = models.JSONField(default=dict, blank=True)
    context_cached_at = models.DateTimeField(null=True, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-last_active_at"]

    def __str__(self):
        return self.title or f"session {self.pk}"
