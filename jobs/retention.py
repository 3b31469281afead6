"""Retention: finished runs older than N days leave the ledger in batches."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("jobs.retention")


def purge_finished_runs(days, batch_size=5000, now=None):
    """Delete succeeded, dead and cancelled runs finished more than `days` ago; return how many."""
    from .models import JobRun

    if days <= 0:
        raise ValueError("days must be positive")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    total = 0
    while True:
        # Small batches: short transactions and locks, and a crash loses no finished work.
        ids = list(JobRun.objects.finished().filter(finished_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            deleted, _ = JobRun.objects.filter(pk__in=ids).delete()
        total += len(ids)
        logger.info("purged %d finished runs (%d rows with attempts)", len(ids), deleted)
    return total
