"""Schedules in admin: a form checked against the task's signature, the next fire times, actions."""

from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.tasks.exceptions import InvalidTask
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join

from .. import scheduler
from ..definitions import catalog
from ..forms import SafeJSONField
from ..models import Schedule
from ..schedule_times import validate_cron
from ..signatures import hints
from .runs import TaskFilter, status_badge


MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def moment_field(model_field):
    """A browser date-time picker for a schedule's moment (read in the site's time zone)."""
    return forms.DateTimeField(
        label=model_field.verbose_name.capitalize(), required=False, input_formats=MOMENT_FORMATS,
        help_text=f"{model_field.help_text} In {settings.TIME_ZONE}.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def parse_moment(text):
    """A moment typed in the form (the site's time zone), or None; ValueError if unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in MOMENT_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date and time")


class ScheduleForm(forms.ModelForm):
    task_path = forms.ChoiceField(label="Task")
    clocked_at = moment_field(Schedule._meta.get_field("clocked_at"))
    starts_at = moment_field(Schedule._meta.get_field("starts_at"))
    expires_at = moment_field(Schedule._meta.get_field("expires_at"))

    class Meta:
        model = Schedule
        fields = "__all__"
        field_classes = {"args": SafeJSONField, "kwargs": SafeJSONField}
        widgets = {
            "args": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "kwargs": forms.Textarea(attrs={"rows": 3, "cols": 60}),
            "description": forms.Textarea(attrs={"rows": 3, "cols": 60}),
        }
        help_texts = {
            "args": 'A JSON list, e.g. [42, "a"].',
            "kwargs": 'A JSON object, e.g. {"days": 30}.',
            "timezone": "An IANA zone such as Europe/Berlin; cron expressions are read on its wall clock.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "task_path" in self.fields:
            choices = [(t.module_path, t.module_path) for t in catalog()]
            current = self.instance.task_path
            if current and current not in dict(choices):
                # Shown so the page renders; saving it fails clean() with a clear message.
                choices.append((current, f"{current} (not in the catalog)"))
            self.fields["task_path"].choices = [("", "---------"), *choices]

    def clean_args(self):
        value = self.cleaned_data.get("args")
        return [] if value is None else value

    def clean_kwargs(self):
        value = self.cleaned_data.get("kwargs")
        return {} if value is None else value


def fire_time_rows(schedule, count=5):
    """{"times": [{"local": ..., "utc": ...}, ...]} of a schedule's next fire times (fewer for a
    one-off or an ending window), or {"error": sentence}."""
    timings = bool(schedule.interval_seconds) + bool((schedule.cron or "").strip()) + (schedule.clocked_at is not None)
    if timings != 1:
        return {"error": "Set an interval or a cron expression to see them."}
    if schedule.starts_at and schedule.expires_at and schedule.expires_at <= schedule.starts_at:
        return {"error": "The end of the window must come after its start."}
    try:
        zone = schedule.zone
        times = schedule.upcoming_fire_times(count)
    except (ValueError, TypeError, OverflowError) as exc:
        return {"error": f"Cannot compute them: {exc}"}
    if not times:
        return {"error": "No fire time left: the one-off time or the window's end has passed."}
    return {"times": [{"local": t.astimezone(zone).strftime("%a %Y-%m-%d %H:%M:%S %Z"),
                       "utc": t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")} for t in times]}


class TimingFilter(admin.SimpleListFilter):
    title = "timing"
    parameter_name = "timing"

    def lookups(self, request, model_admin):
        return [("interval", "interval"), ("cron", "cron"), ("clocked", "one-off")]

    def queryset(self, request, queryset):
        if self.value() == "clocked":
            return queryset.filter(clocked_at__isnull=False)
        if self.value() == "interval":
            return queryset.filter(interval_seconds__isnull=False)
        if self.value() == "cron":
            return queryset.exclude(cron="")
        return queryset


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "task_path", "timing", "enabled", "next_fire_at", "last_fired_at", "last_run_link"]
    list_filter = ["enabled", TimingFilter, TaskFilter, "misfire_policy", "overlap_policy"]
    search_fields = ["name", "task_path", "description"]
    list_select_related = ["last_run"]
    actions = ["run_now", "enable_schedules", "disable_schedules", "duplicate_schedules"]
    readonly_fields = ["next_fire_times", "next_fire_at", "last_fired_at", "last_run_link", "created_at",
                       "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "task_path", "args", "kwargs", "enabled", "description"]}),
        ("When", {"fields": ["interval_seconds", "cron", "clocked_at", "timezone", "starts_at", "expires_at",
                             "next_fire_times"]}),
        ("Policies", {"fields": ["misfire_policy", "catch_up_limit", "overlap_policy", "queue", "priority"]}),
        ("State", {"fields": ["next_fire_at", "last_fired_at", "last_run_link", "created_at", "updated_at"]}),
    ]

    # --- the form's hint and live preview ---------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "task_hints": hints(catalog())}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="jobs_schedule_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """The next five fire times of the timing typed so far (JSON), for the form's live preview."""
        if not (self.has_view_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        interval = request.GET.get("interval_seconds", "").strip()
        try:
            interval = int(interval) if interval else None
        except ValueError:
            return JsonResponse({"error": "The interval must be a whole number of seconds."})
        if interval is not None and not 1 <= interval <= 2**31 - 1:
            return JsonResponse({"error": "The interval must be at least one second."})
        try:
            moments = {name: parse_moment(request.GET.get(name, "")[:40])
                       for name in ("clocked_at", "starts_at", "expires_at")}
        except ValueError as exc:
            return JsonResponse({"error": f"Cannot compute them: {exc}"})
        schedule = Schedule(interval_seconds=interval, cron=request.GET.get("cron", "")[:120].strip(),
                            timezone=request.GET.get("timezone", "UTC")[:64] or "UTC", **moments)
        if schedule.cron:
            try:
                validate_cron(schedule.cron)
            except ValueError as exc:
                return JsonResponse({"error": f"Cannot compute them: {exc}"})
        return JsonResponse(fire_time_rows(schedule))

    # --- columns and read-only fields ------------------------------------------------------

    @admin.display(description="timing")
    def timing(self, schedule):
        return schedule.timing_display

    @admin.display(description="last run")
    def last_run_link(self, schedule):
        if not schedule.last_run_id:
            return "-"
        label = str(schedule.last_run_id)[:8]
        try:
            url = reverse("admin:jobs_jobrun_change", args=[schedule.last_run_id])
        except NoReverseMatch:
            return label
        run = schedule.last_run
        return format_html('<a href="{}">{}</a> {}', url, label, status_badge(run.status) if run else "")

    @admin.display(description="next 5 fire times")
    def next_fire_times(self, schedule):
        # Called with the form's instance: the saved values, or the submitted ones on a form
        # with errors, which may be anything; a preview must never turn a form error into a 500.
        preview = fire_time_rows(schedule)
        if "error" in preview:
            return preview["error"]
        return format_html(
            '<ol class="engram-next-fire-times" style="margin:0;padding-left:1.5em">{}</ol>',
            format_html_join("", '<li>{} <span class="quiet">({} UTC)</span></li>',
                             ((t["local"], t["utc"]) for t in preview["times"])),
        )

    # --- actions --------------------------------------------------------------------------

    @admin.action(description="Run now", permissions=["change"])
    def run_now(self, request, queryset):
        enqueued, failed = 0, []
        for schedule in queryset:
            try:
                scheduler.run_now(schedule, user=request.user)
                enqueued += 1
            except (LookupError, InvalidTask, TypeError, ValueError) as exc:
                failed.append(f"{schedule.name}: {exc}")
        if enqueued:
            self.message_user(request, f"Enqueued {enqueued} run(s).", messages.SUCCESS)
        if failed:
            self.message_user(request, f"Could not enqueue {len(failed)}: {'; '.join(failed)}", messages.ERROR)

    @admin.action(description="Enable", permissions=["change"])
    def enable_schedules(self, request, queryset):
        total = queryset.count()
        enabled = sum(schedule.enable() for schedule in queryset.disabled())
        self.message_user(request, f"Enabled {enabled} schedule(s); {total - enabled} already enabled.",
                          messages.SUCCESS if enabled else messages.WARNING)

    @admin.action(description="Disable", permissions=["change"])
    def disable_schedules(self, request, queryset):
        total = queryset.count()
        disabled = sum(schedule.disable() for schedule in queryset.enabled())
        self.message_user(request, f"Disabled {disabled} schedule(s); {total - disabled} already disabled.",
                          messages.SUCCESS if disabled else messages.WARNING)

    @admin.action(description="Duplicate (as disabled copies)", permissions=["add"])
    def duplicate_schedules(self, request, queryset):
        copies = [schedule.duplicate() for schedule in queryset]
        self.message_user(request, f"Duplicated {len(copies)} schedule(s), disabled: "
                                   f"{', '.join(copy.name for copy in copies)}.", messages.SUCCESS)
