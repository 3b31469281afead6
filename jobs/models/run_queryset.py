"""The run ledger's filters: adjectives over JobRun rows."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

from ..status import RunStatus


class JobRunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=RunStatus.active())

    def pending(self):
        return self.filter(status=RunStatus.PENDING)

    def undispatched(self):
        return self.filter(status__in=RunStatus.undispatched())

    def waiting(self):
        return self.filter(status__in=RunStatus.waiting())

    def running(self):
        return self.filter(status=RunStatus.RUNNING)

    def succeeded(self):
        return self.filter(status=RunStatus.SUCCEEDED)

    def failed(self):
        return self.filter(status=RunStatus.FAILED)

    def dead(self):
        return self.filter(status=RunStatus.DEAD)

    def cancelled(self):
        return self.filter(status=RunStatus.CANCELLED)

    def finished(self):
        return self.filter(status__in=RunStatus.terminal())

    def unchanged_for(self, seconds, now=None):
        return self.filter(status_changed_at__lt=(now or timezone.now()) - timedelta(seconds=seconds))

    def cancel_overdue(self, grace_seconds, now=None):
        """Running runs asked to cancel more than `grace_seconds` ago."""
        cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
        return self.running().filter(cancel_requested_at__lt=cutoff)
