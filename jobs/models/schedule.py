"""Periodic schedules, stored in Postgres and edited in admin; fired by `manage.py jobs scheduler`."""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice, takewhile

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY
from django.utils import timezone as dj_timezone

from ..conf import jobs_settings
from ..schedule_times import cron_times, interval_times, parse_zone, validate_cron

TIMING_CONSTRAINT = "jobs_schedule_one_timing"
WINDOW_CONSTRAINT = "jobs_schedule_window_order"
# Constraints clean() already explains in a sentence; Django's own message would name them.
EXPLAINED_CONSTRAINTS = (TIMING_CONSTRAINT, WINDOW_CONSTRAINT)

# A cron schedule missed for longer than this many fire times is not walked tick by tick: the
# walk jumps to the last day before now (see Schedule.plan).
_MAX_WALK = 100_000


class MisfirePolicy(models.TextChoices):
    SKIP = "skip", "Skip missed fire times"
    RUN_ONCE = "run_once", "Run once for all missed fire times"
    CATCH_UP = "catch_up", "Catch up, at most N missed fire times"


class OverlapPolicy(models.TextChoices):
    SKIP = "skip", "Skip while the previous run is unfinished"
    ALLOW = "allow", "Allow overlapping runs"


@dataclass(frozen=True)
class Firing:
    """What firing a due schedule does: the fire times to run and the schedule's next one."""

    fire_times: list  # nominal fire times to enqueue a run for, oldest first
    due: int  # fire times that had come (at least this many after a very long outage)
    misfired: bool  # the oldest due fire time was later than the grace: the misfire policy decided
    next_fire_at: datetime


class ScheduleQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)

    def disabled(self):
        return self.filter(enabled=False)

    def due(self, now=None):
        return self.enabled().filter(next_fire_at__lte=now or dj_timezone.now())


class Schedule(models.Model):
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

    # --- validation ----------------------------------------------------------------------

    def clean(self):
        """Check the task, its arguments against the signature, the timing and the overrides."""
        from ..definitions import catalog
        from ..signatures import validate_arguments

        errors = {}
        task = {t.module_path: t for t in catalog()}.get(self.task_path)
        if task is None:
            errors["task_path"] = f"{self.task_path!r} is not a task in the catalog."
        if not isinstance(self.args, list):
            errors["args"] = "Positional arguments must be a JSON list."
        if not isinstance(self.kwargs, dict):
            errors["kwargs"] = "Keyword arguments must be a JSON object."
        if task is not None and not errors:
            try:
                validate_arguments(task, self.args, self.kwargs)
            except ValueError as exc:
                errors["kwargs" if "keyword" in str(exc) else "args"] = str(exc)

        self.cron = (self.cron or "").strip()
        timings = (self.interval_seconds is not None) + bool(self.cron) + (self.clocked_at is not None)
        if timings > 1:
            errors[NON_FIELD_ERRORS] = ("Set an interval or a cron expression, not both." if self.clocked_at is None
                                        else "Set one timing only: an interval or a cron expression, or a one-off time.")
        elif timings == 0:
            errors[NON_FIELD_ERRORS] = "Set an interval or a cron expression, or a one-off time."
        if self.starts_at and self.expires_at and self.expires_at <= self.starts_at:
            errors["expires_at"] = "The end of the window must come after its start."
        elif self.clocked_at and (self.starts_at and self.clocked_at < self.starts_at
                                  or self.expires_at and self.clocked_at > self.expires_at):
            errors["clocked_at"] = "The one-off time lies outside the schedule's window."
        now = dj_timezone.now()
        if self.enabled and self._timing_changed():
            if self.clocked_at is not None and self.clocked_at <= now:
                errors.setdefault("clocked_at", "That moment has passed; a one-off time must be in the future.")
            if self.expires_at is not None and self.expires_at <= now:
                errors.setdefault("expires_at", "The window has already ended.")
        if self.interval_seconds is not None and self.interval_seconds < 1:
            errors["interval_seconds"] = "The interval must be at least one second."
        if self.cron:
            try:
                validate_cron(self.cron)
            except ValueError as exc:
                errors["cron"] = str(exc)
        try:
            parse_zone(self.timezone)
        except ValueError as exc:
            errors["timezone"] = str(exc)

        if self.queue and self.queue not in jobs_settings.QUEUES:
            errors["queue"] = f"Unknown queue {self.queue!r}; one of: {', '.join(jobs_settings.QUEUES)}."
        if self.priority is not None and not TASK_MIN_PRIORITY <= self.priority <= TASK_MAX_PRIORITY:
            errors["priority"] = f"The priority must be between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}."
        if self.misfire_policy == MisfirePolicy.CATCH_UP and self.catch_up_limit < 1:
            errors["catch_up_limit"] = "Catching up needs a limit of at least one run."
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        """Django's check of the constraints, without raw constraint names.

        clean() already says "Set an interval or a cron expression, not both." (or "The end of
        the window must come after its start.") whenever the timing or the window constraint
        would fail; Django would add "Constraint “jobs_schedule_one_timing” is violated." beside
        it. The database still enforces both.
        """
        try:
            super().validate_constraints(exclude)
        except ValidationError as exc:
            errors = {
                field: kept for field, messages in exc.update_error_dict({}).items()
                if (kept := [m for m in messages
                             if not any(name in " ".join(m.messages) for name in EXPLAINED_CONSTRAINTS)])
            }
            if errors:
                raise ValidationError(errors) from None

    # --- fire times ----------------------------------------------------------------------

    @property
    def zone(self):
        return parse_zone(self.timezone)

    def fire_times(self, after):
        """Yield the fire times strictly after the instant `after`, inside the window (starts_at to
        expires_at): an interval counts from `after` (or fires first at starts_at), a one-off
        time fires once. Finite when the schedule is one-off or has an end."""
        if self.clocked_at is not None:
            times = iter([self.clocked_at] if self.clocked_at > after else [])
        elif self.starts_at is not None and self.starts_at > after:
            if self.interval_seconds:
                times = chain([self.starts_at], interval_times(self.interval_seconds, self.starts_at))
            else:  # a cron tick at exactly starts_at counts
                times = cron_times(self.cron, self.zone, self.starts_at - timedelta(microseconds=1))
        elif self.interval_seconds:
            times = interval_times(self.interval_seconds, after)
        else:
            times = cron_times(self.cron, self.zone, after)
        if self.expires_at is not None:
            times = takewhile(lambda instant: instant <= self.expires_at, times)
        return times

    def upcoming_fire_times(self, count=5, now=None):
        """Return the next `count` fire times after `now`; an interval keeps next_fire_at's phase."""
        now = now or dj_timezone.now()
        start = self.next_fire_at
        if self.interval_seconds and start is not None and start > now and not self._timing_changed():
            return [start, *islice(self.fire_times(start), count - 1)]
        return list(islice(self.fire_times(now), count))

    def plan(self, now, grace):
        """Return what firing at `now` does (a Firing), or None when the schedule is not due."""
        # Fire times no older than `grace` are on time and each gets a run: a stall or a
        # failover loses no tick. When the oldest due one is older, the scheduler was down and
        # the misfire policy decides how many of the missed fire times run.
        first = self.next_fire_at
        if not self.enabled or first is None or first > now:
            return None
        misfired = now - first > timedelta(seconds=grace)
        if not misfired:
            keep = None
        elif self.misfire_policy == MisfirePolicy.SKIP:
            keep = 0
        elif self.misfire_policy == MisfirePolicy.RUN_ONCE:
            keep = 1
        else:
            keep = self.catch_up_limit
        if self.interval_seconds:
            step = timedelta(seconds=self.interval_seconds)
            # Past the window's end nothing more came due.
            until = min(now, self.expires_at) if self.expires_at is not None else now
            due = (until - first) // step + 1  # arithmetic: a long outage costs nothing to skip
            last = first + (due - 1) * step
            kept = due if keep is None else min(keep, due)
            times = [last - n * step for n in reversed(range(kept))]
            following = last + step
            if self.expires_at is not None and following > self.expires_at:
                following = None  # the window is over: advance() disables the schedule
            return Firing(times, due, misfired, following)
        times = deque([first], maxlen=keep)
        due = 1
        upcoming = self.fire_times(first)
        while True:
            # None: a one-off or a windowed schedule has no fire time left.
            instant = next(upcoming, None)
            if instant is None or instant > now:
                return Firing(list(times), due, misfired, instant)
            times.append(instant)
            due += 1
            if due == _MAX_WALK and instant < now - timedelta(days=1):
                # Months of a minutely cron: jump to the last day; the older ones are long stale.
                upcoming = self.fire_times(now - timedelta(days=1))

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

    def _first_fire_time(self, now, enabled=None):
        if not (self.enabled if enabled is None else enabled):
            return None
        return next(self.fire_times(now), None)
