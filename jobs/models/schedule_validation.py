"""A schedule's validation: the task and its arguments, one timing, the window, the overrides."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY
from django.utils import timezone as dj_timezone

from ..conf import jobs_settings
from ..schedule_times import parse_zone, validate_cron
from .schedule_timing import MisfirePolicy

TIMING_CONSTRAINT = "jobs_schedule_one_timing"
WINDOW_CONSTRAINT = "jobs_schedule_window_order"
# Constraints clean() already explains in a sentence; Django's own message would name them.
EXPLAINED_CONSTRAINTS = (TIMING_CONSTRAINT, WINDOW_CONSTRAINT)


class ScheduleValidation:
    """clean() and validate_constraints() of Schedule (jobs.models.schedule)."""

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
