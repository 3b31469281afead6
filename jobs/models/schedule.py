"""Periodic schedules, stored in Postgres and edited in admin; fired by `manage.py jobs scheduler`."""

from django.db import models
from django.utils import timezone as dj_timezone

from .schedule_timing import MisfirePolicy, OverlapPolicy, ScheduleTiming
from .schedule_validation import TIMING_CONSTRAINT, WINDOW_CONSTRAINT, ScheduleValidation

__all__ = ["MisfirePolicy", "OverlapPolicy", "Schedule", "ScheduleQuerySet"]


class ScheduleQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)

    def disabled(self):
        return self.filter(enabled=False)

    def due(self, now=None):
        return self.enabled().filter(next_fire_at__lte=now or dj_timezone.now())


class Schedule(ScheduleValidation, ScheduleTiming, models.Model):
    """A task fired on an interval, a cron expression or once, inside an optional window.

    Its methods live by concern: schedule_validation (clean, constraint messages), schedule_timing
    (fire times and what a due firing does); the guarded state changes are here.
    """

    name = models.CharField(max_length=200, unique=True)
    task_path = models.CharField("task", max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Fire every N seconds.")
    cron = models.CharField(max_length=120, blank=True, help_text="Or a cron expression, e.g. '0 2 * * *'.")
    clocked_at = models.DateTimeField("one-off at", null=True, blank=True,
                                      help_text="Or fire once at this moment (then the schedule disables itself).")
    starts_at = models.DateTimeField("not before", null=True, blank=True,
                                     help_text="No fire time before this moment (empty: from now).")
    expires_at = models.DateTimeField("not after", null=True, blank=True,
                                      help_text="No fire time after this moment; then the schedule disables itself.")
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

    # Written only by the scheduler (and the "run now" action), with guarded UPDATEs.
    SCHEDULER_FIELDS = ("last_fired_at", "last_run", "next_fire_at")
    # A change to any of these moves next_fire_at.
    TIMING_FIELDS = ("interval_seconds", "cron", "clocked_at", "starts_at", "expires_at", "timezone", "enabled")

    class Meta:
        ordering = ["name"]
        constraints = [
            # Exactly one timing: an interval, a cron expression or a one-off moment.
            models.CheckConstraint(
                condition=(models.Q(interval_seconds__isnull=False) & models.Q(cron="") & models.Q(clocked_at__isnull=True))
                | (models.Q(interval_seconds__isnull=True) & ~models.Q(cron="") & models.Q(clocked_at__isnull=True))
                | (models.Q(interval_seconds__isnull=True) & models.Q(cron="") & models.Q(clocked_at__isnull=False)),
                name=TIMING_CONSTRAINT,
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True) | models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("starts_at")),
                name=WINDOW_CONSTRAINT,
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._saved_timing = instance._timing()
        return instance

    # --- state changes -------------------------------------------------------------------

    def save(self, *args, **kwargs):
        """Save; a new schedule or a timing change moves next_fire_at (from now)."""
        update_fields = kwargs.get("update_fields")
        moved = self._timing_changed()
        if moved:
            self.next_fire_at = self._first_fire_time(dj_timezone.now())
        if not self._state.adding and update_fields is None and not kwargs.get("force_insert"):
            # An admin form holds the row as it was when the page loaded; writing the scheduler's
            # columns back would undo a firing that happened meanwhile (and fire that tick twice).
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields
                if not f.primary_key and (f.name not in self.SCHEDULER_FIELDS or (moved and f.name == "next_fire_at"))
            ]
        elif moved and update_fields is not None and "next_fire_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "next_fire_at"]
        super().save(*args, **kwargs)
        self._saved_timing = self._timing()

    def reschedule(self, now=None):
        """Recompute next_fire_at from `now` (or clear it when disabled) and save it; a schedule
        with no fire time left (a past one-off time, an ended window) is disabled."""
        self.next_fire_at = self._first_fire_time(now or dj_timezone.now())
        changes = {"next_fire_at": self.next_fire_at}
        if self.next_fire_at is None and self.enabled:
            changes["enabled"] = self.enabled = False
        Schedule.objects.filter(pk=self.pk).update(**changes)
        self._saved_timing = self._timing()

    def advance(self, expected, next_fire_at, fired_at=None):
        """Move next_fire_at from `expected` on; return whether this call won the tick.

        With no next fire time (a one-off that fired, a window that ended) the schedule is
        disabled in the same statement.
        """
        changes = {"next_fire_at": next_fire_at}
        if next_fire_at is None:
            changes["enabled"] = False
        if fired_at is not None:
            changes["last_fired_at"] = fired_at
        # Compare-and-set (fencing): two schedulers that both believe they lead, or an admin
        # edit racing a firing, cannot both move the same tick; the loser fires nothing.
        won = Schedule.objects.filter(pk=self.pk, enabled=True, next_fire_at=expected).update(**changes) == 1
        if won:
            for name, value in changes.items():
                setattr(self, name, value)
        return won

    def record_run(self, run_id):
        """Point last_run at the run a firing (or "run now") enqueued."""
        Schedule.objects.filter(pk=self.pk).update(last_run_id=run_id)
        self.last_run_id = run_id

    def enable(self, now=None):
        """Enable a disabled schedule, firing next from `now`; return whether it changed."""
        next_fire_at = self._first_fire_time(now or dj_timezone.now(), enabled=True)
        changed = Schedule.objects.filter(pk=self.pk, enabled=False).update(
            enabled=True, next_fire_at=next_fire_at, updated_at=dj_timezone.now()
        ) == 1
        if changed:
            self.enabled, self.next_fire_at = True, next_fire_at
            self._saved_timing = self._timing()
        return changed

    def disable(self):
        """Disable an enabled schedule; return whether it changed."""
        changed = Schedule.objects.filter(pk=self.pk, enabled=True).update(
            enabled=False, next_fire_at=None, updated_at=dj_timezone.now()
        ) == 1
        if changed:
            self.enabled, self.next_fire_at = False, None
            self._saved_timing = self._timing()
        return changed

    def duplicate(self):
        """Save a disabled copy under a free name ("<name> (copy)", "(copy 2)", ...) and return it."""
        stem = self.name[:180]
        name, number = f"{stem} (copy)", 1
        while Schedule.objects.filter(name=name).exists():
            number += 1
            name = f"{stem} (copy {number})"
        copy = Schedule(**{
            f.name: getattr(self, f.name) for f in self._meta.concrete_fields
            if f.editable and not f.primary_key and f.name not in (*self.SCHEDULER_FIELDS, "created_at")
        })
        # Disabled: a copy that fired at once would double the work before anyone edits it.
        copy.name, copy.enabled = name, False
        copy.save()
        return copy

    # --- reading -------------------------------------------------------------------------

    @property
    def timing_display(self):
        def at(instant):
            return dj_timezone.localtime(instant, self.zone).strftime("%Y-%m-%d %H:%M %Z")

        if self.clocked_at is not None:
            return f"once at {at(self.clocked_at)}"
        if self.interval_seconds:
            text = f"every {self.interval_seconds}s"
        elif self.cron:
            text = f"cron {self.cron} ({self.timezone})"
        else:
            return "-"
        if self.starts_at is not None:
            text += f" from {at(self.starts_at)}"
        if self.expires_at is not None:
            text += f" until {at(self.expires_at)}"
        return text

    def has_active_run(self):
        return self.runs.active().exists()

    def task_for_run(self, run_after=None):
        """Return the catalog task with this schedule's queue and priority overrides applied."""
        from ..definitions import get_task

        changes = {}
        if self.queue:
            changes["queue_name"] = self.queue
        if self.priority is not None:
            changes["priority"] = self.priority
        if run_after is not None:
            changes["run_after"] = run_after
        task = get_task(self.task_path)
        return task.using(**changes) if changes else task

    def _timing(self):
        return tuple(self.__dict__.get(name) for name in self.TIMING_FIELDS)

    def _timing_changed(self):
        if self._state.adding or getattr(self, "_saved_timing", None) != self._timing():
            return True
        return self.enabled and self.next_fire_at is None
