"""Retention of episodic memories and idle sessions."""

import logging
from datetime import timedelta

from django.utils import timezone

from memory.conf import memory_settings
from memory.models import Layer, Memory, Session

logger = logging.getLogger("memory.retention")


def prune_old_memories(days=None, now=None):
    """Delete episodic memories older than MEMORY_RETENTION_DAYS (0 = off); return how many."""
    days = memory_settings.RETENTION_DAYS if days is None else days
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = Memory.objects.filter(layer=Layer.EPISODIC, created_at__lt=cutoff).delete()
    logger.info("pruned %d episodic memories older than %d days", deleted, days)
    return deleted


def cleanup_sessions(idle_days=None, now=None):
    """Delete sessions idle longer than MEMORY_SESSION_IDLE_DAYS; return how many."""
    idle_days = memory_settings.SESSION_IDLE_DAYS if idle_days is None else idle_days
    cutoff = (now or timezone.now()) - timedelta(days=idle_days)
    deleted, _ = Session.objects.idle_since(cutoff).delete()
    return deleted
