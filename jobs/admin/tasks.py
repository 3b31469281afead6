"""The Tasks page (statistics per task) and task policy overrides with their audit trail."""

from dataclasses import replace

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.tasks.exceptions import InvalidTask
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ..definitions import catalog
from ..models import TaskPolicy, TaskPolicyChange
from ..queues import lane_for_priority
from ..stats import DEFAULT_WINDOW, WINDOWS, task_statistics
from .formatting import human_seconds
from .readonly import ReadOnlyAdminMixin

OVERRIDES = ["max_attempts", "backoff", "backoff_base", "backoff_cap", "soft_time_limit", "hard_time_limit",
             "priority", "paused"]


def overridden(policy):
    """The overrides a policy sets, as {"field": value}."""
    blank = TaskPolicy()
    return {name: getattr(policy, name) for name in OVERRIDES if getattr(policy, name) != getattr(blank, name)}


def diff(before, after):
    """{"field": [before, after]} for every override that differs."""
    return {name: [getattr(before, name), getattr(after, name)]
            for name in OVERRIDES if getattr(before, name) != getattr(after, name)}


# --- task policies and their audit trail ---------------------------------------------------------


class TaskPolicyForm(forms.ModelForm):
    max_attempts = forms.IntegerField(required=False, min_value=1, max_value=1000)
    priority = forms.IntegerField(required=False, min_value=-100, max_value=100,
                                  help_text="-100..100: above 0 is the high lane, below 0 the low one.")
    backoff_base = forms.FloatField(required=False, min_value=0, help_text="Seconds before the first retry.")
    backoff_cap = forms.FloatField(required=False, min_value=0, help_text="Longest wait in seconds.")
    soft_time_limit = forms.FloatField(required=False, help_text="Seconds; raises SoftTimeLimitExceeded in the task.")
    hard_time_limit = forms.FloatField(required=False, help_text="Seconds; the worker process is killed.")

    class Meta:
        model = TaskPolicy
        fields = ["task_path", *OVERRIDES]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "task_path" in self.fields:  # read-only once the policy exists
            self.fields["task_path"] = forms.ChoiceField(
                label="task", choices=[("", "---------"), *((t.module_path, t.module_path) for t in catalog())],
            )
        task = {t.module_path: t for t in catalog()}.get(self.instance.task_path)
        if task is not None:  # say what an empty field keeps
            code = {"max_attempts": task.retry.max_attempts, "backoff": task.retry.backoff,
                    "backoff_base": task.retry.base, "backoff_cap": task.retry.cap,
                    "soft_time_limit": task.soft_time_limit, "hard_time_limit": task.hard_time_limit,
                    "priority": task.priority}
            for name, value in code.items():
                hint = f"Empty keeps the code's value: {'none' if value is None else value}."
                self.fields[name].help_text = f"{self.fields[name].help_text} {hint}".strip()

    def _positive(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and value <= 0:
            raise ValidationError("Must be a positive number of seconds.")
        return value

    def clean_soft_time_limit(self):
        return self._positive("soft_time_limit")

    def clean_hard_time_limit(self):
        return self._positive("hard_time_limit")

    def clean(self):
        data = super().clean()
        path_ = data.get("task_path") or self.instance.task_path
        task = {t.module_path: t for t in catalog()}.get(path_)
        if task is None:
            if path_ and "task_path" not in self.fields:
                raise ValidationError(f"{path_} is no longer a registered task; delete this override.")
            return data
        # The limits that will apply: an override on one side meets the code's value on the other.
        soft = data.get("soft_time_limit") or task.soft_time_limit
        hard = data.get("hard_time_limit") or task.hard_time_limit
        if soft and hard and soft >= hard:
            self.add_error("soft_time_limit", f"The soft limit ({soft:g}s) must be shorter than the hard "
                                              f"limit ({hard:g}s).")
        changes = {"max_attempts": data.get("max_attempts"), "backoff": data.get("backoff"),
                   "base": data.get("backoff_base"), "cap": data.get("backoff_cap")}
        try:
            replace(task.retry, **{k: v for k, v in changes.items() if v not in (None, "")})
        except InvalidTask as exc:
            raise ValidationError(f"The resulting retry policy is invalid: {exc}") from None
        return data


@admin.register(TaskPolicy)
class TaskPolicyAdmin(admin.ModelAdmin):
    """Overrides of a task's policy; every save writes a TaskPolicyChange. Also serves the Tasks page."""

    form = TaskPolicyForm
    list_display = ["task_path", "overrides", "paused", "updated_at", "updated_by"]
    list_filter = ["paused"]
    list_select_related = ["updated_by"]
    search_fields = ["task_path"]
    change_list_template = "admin/jobs/ops/taskpolicy_change_list.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["task_path", *OVERRIDES]
        return ["task_path", *OVERRIDES, "updated_at", "updated_by", "history"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["task_path", "updated_at", "updated_by", "history"]

    @admin.display(description="overrides")
    def overrides(self, policy):
        return ", ".join(f"{name}={value}" for name, value in overridden(policy).items()) or "-"

    @admin.display(description="changes")
    def history(self, policy):
        changes = TaskPolicyChange.objects.filter(task_path=policy.task_path).select_related("changed_by")[:20]
        if not changes:
            return "-"
        return format_html(
            "<table><tr><th>when</th><th>who</th><th>changes</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                             ((timezone.localtime(c.changed_at).strftime("%Y-%m-%d %H:%M:%S"),
                               c.changed_by or "-", describe_changes(c.changes)) for c in changes)),
        )

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in a transaction: the row lock keeps two concurrent saves
        # from both recording the same "before".
        before = TaskPolicy.objects.select_for_update().get(pk=obj.pk) if change else TaskPolicy()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        changes = diff(before, obj)
        if changes or not change:
            TaskPolicyChange.objects.create(task_path=obj.task_path, changed_by=request.user, changes=changes)

    def delete_model(self, request, obj):
        self._record_removal(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._record_removal(request, list(queryset))
        super().delete_queryset(request, queryset)

    def _record_removal(self, request, policies):
        TaskPolicyChange.objects.bulk_create([
            TaskPolicyChange(task_path=p.task_path, changed_by=request.user, changes=diff(p, TaskPolicy()))
            for p in policies
        ])

    def get_urls(self):
        return [
            path("tasks/", self.admin_site.admin_view(self.tasks_view), name="jobs_taskpolicy_tasks"),
            *super().get_urls(),
        ]

    def tasks_view(self, request):
        """Show every registered task, its policy and overrides, and its ledger statistics."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window")
        window = window if window in WINDOWS else DEFAULT_WINDOW
        stats = task_statistics(window)
        policies = {p.task_path: p for p in TaskPolicy.objects.all()}
        tasks = []
        for task in catalog():
            policy = policies.get(task.module_path)
            tasks.append({
                "path": task.module_path, "queue": task.queue_name, "lane": lane_for_priority(task.priority).value,
                "retry": task.retry.describe(), "soft": human_seconds(task.soft_time_limit),
                "hard": human_seconds(task.hard_time_limit),
                "unique": "args" if task.unique_key is True else (task.unique_key or "-"),
                "policy": policy, "overrides": overridden(policy) if policy else {},
                "stats": stats.get(task.module_path),
            })
        context = {
            **self.admin_site.each_context(request),
            "title": "Tasks",
            "opts": self.model._meta,
            "tasks": tasks,
            "window": window,
            "windows": list(WINDOWS),
            "bucket": WINDOWS[window][2],
            "can_override": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/jobs/ops/tasks.html", context)


def describe_changes(changes):
    """`max_attempts: None → 5; paused: False → True`."""
    if not changes:
        return "created (no overrides)"
    # jsonb keeps keys in its own order; show them in the form's.
    names = sorted(changes, key=lambda name: OVERRIDES.index(name) if name in OVERRIDES else len(OVERRIDES))
    return "; ".join(f"{name}: {changes[name][0]} → {changes[name][1]}" for name in names)


@admin.register(TaskPolicyChange)
class TaskPolicyChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail of task policies: append-only, so view-only here."""

    list_display = ["changed_at", "task_path", "changed_by", "summary"]
    list_select_related = ["changed_by"]
    search_fields = ["task_path"]
    fields = ["task_path", "changed_at", "changed_by", "summary"]
    readonly_fields = fields

    @admin.display(description="changes")
    def summary(self, change):
        return describe_changes(change.changes)
