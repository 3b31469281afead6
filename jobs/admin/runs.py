"""The run ledger in admin: read-only history, operator actions, and a cheap changelist."""

import json
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from ..conf import jobs_settings
from ..control import cancel_run, retry_run
from ..definitions import catalog, get_task
from ..forms import TaskArgumentsForm
from ..models import JobRun
from ..paginator import EstimatedCountPaginator
from ..retention import purge_finished_runs
from ..signatures import hints
from ..status import RunStatus
from .bulk import retry_dead_view
from .formatting import human_seconds

STATUS_COLORS = {
    RunStatus.PENDING: "#8a8a8a", RunStatus.QUEUED: "#4a7bd0", RunStatus.SCHEDULED: "#7a5fc0",
    RunStatus.RUNNING: "#d08a1a", RunStatus.SUCCEEDED: "#2e8b57", RunStatus.FAILED: "#c0603a",
    RunStatus.DEAD: "#b22222", RunStatus.CANCELLED: "#666",
}


def status_badge(status):
    return format_html(
        '<span class="engram-status" data-status="{}" style="background:{};color:#fff;padding:1px 7px;'
        'border-radius:9px;font-size:11px;white-space:nowrap">{}</span>',
        status, STATUS_COLORS.get(status, "#888"), RunStatus(status).label,
    )


class TaskFilter(admin.SimpleListFilter):
    title = "task"
    parameter_name = "task"

    def lookups(self, request, model_admin):
        # The catalog, not SELECT DISTINCT over a million rows.
        return [(t.module_path, t.module_path) for t in catalog()]

    def queryset(self, request, queryset):
        return queryset.filter(task_path=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(q, q) for q in jobs_settings.QUEUES]

    def queryset(self, request, queryset):
        return queryset.filter(queue=self.value()) if self.value() else queryset


class RetryEditForm(TaskArgumentsForm):
    def __init__(self, *a, run=None, **kw):
        super().__init__(*a, **kw)
        self.run = run

    def task_path(self):
        return self.run.task_path


class PurgeForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=36500, initial=30, help_text="Delete finished runs older than this.")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["short_id", "task_path", "status_badge", "progress_bar", "attempts", "lane_name",
                    "enqueued_at", "wait", "duration_display", "trigger"]
    list_display_links = ["short_id"]
    list_filter = ["status", TaskFilter, QueueFilter, "trigger", ("enqueued_at", admin.DateFieldListFilter)]
    search_fields = ["task_path"]
    search_help_text = "A run id, a task path, or text inside the arguments."
    date_hierarchy = None
    ordering = ["-enqueued_at"]
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["retry_runs", "retry_with_edited_args", "cancel_runs"]
    readonly_fields = [
        "id", "task_path", "status_badge", "args_json", "kwargs_json", "queue", "lane", "priority",
        "attempts", "enqueued_at", "run_after", "started_at", "finished_at", "wait", "duration_display",
        "worker_name", "worker_host", "worker_pid", "progress_bar", "progress_message", "result_json",
        "error_type", "error_message", "traceback_display", "trigger", "enqueued_by", "schedule",
        "unique_key", "cancel_requested_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "task_path", "status_badge", "progress_bar", "progress_message", "attempts",
                           "trigger", "enqueued_by", "schedule"]}),
        ("Arguments", {"fields": ["args_json", "kwargs_json", "unique_key"]}),
        ("Timing", {"fields": ["enqueued_at", "run_after", "started_at", "finished_at", "wait",
                               "duration_display", "cancel_requested_at"]}),
        ("Placement", {"fields": ["queue", "lane", "priority", "worker_name", "worker_host", "worker_pid"]}),
        ("Outcome", {"fields": ["result_json", "error_type", "error_message", "traceback_display"]}),
    ]
    change_form_template = "admin/jobs/jobrun/change_form.html"
    change_list_template = "admin/jobs/jobrun/change_list.html"

    # --- history is read-only -----------------------------------------------------------

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Actions need the change permission; a run's page is never an edit form.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Runs leave through retention (purge), not one by one; this also hides delete_selected.
        return False

    # --- search: a run id, a task, or argument text -----------------------------------

    def get_search_results(self, request, queryset, search_term):
        import uuid

        from django.db.models import Q
        from django.db.models.functions import Cast
        from django.db.models import TextField

        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            pass
        # Argument text is matched on its JSON text; a LIMITed page stops the scan early.
        queryset = queryset.annotate(args_text=Cast("args", TextField()), kwargs_text=Cast("kwargs", TextField()))
        return queryset.filter(
            Q(task_path__icontains=term) | Q(args_text__icontains=term) | Q(kwargs_text__icontains=term)
        ), False

    # --- columns --------------------------------------------------------------------

    @admin.display(description="run", ordering="id")
    def short_id(self, run):
        return str(run.pk)[:8]

    @admin.display(description="status", ordering="status")
    def status_badge(self, run):
        return status_badge(run.status)

    @admin.display(description="progress")
    def progress_bar(self, run):
        fraction = run.progress_fraction
        if fraction is None and run.status == RunStatus.SUCCEEDED:
            fraction = 1.0
        if fraction is None:
            label = f"{run.progress_done}" if run.progress_done else "-"
            return format_html('<span class="engram-progress-label" data-run="{}">{}</span>', run.pk, label)
        return format_html(
            '<div class="engram-progress" data-run="{}" title="{} / {}" style="width:120px;background:#eee;'
            'border-radius:3px"><div class="engram-progress-fill" style="width:{}%;background:#2e8b57;'
            'height:9px;border-radius:3px"></div></div><span class="engram-progress-label">{}%</span>',
            run.pk, run.progress_done, run.progress_total or "?", f"{fraction * 100:.0f}", f"{fraction * 100:.0f}",
        )

    @admin.display(description="attempts", ordering="attempt")
    def attempts(self, run):
        return f"{run.attempt}/{run.max_attempts}"

    @admin.display(description="lane", ordering="queue")
    def lane_name(self, run):
        return run.rq_queue_name

    @admin.display(description="wait")
    def wait(self, run):
        return human_seconds(run.started_at - run.enqueued_at) if run.started_at else "-"

    @admin.display(description="duration")
    def duration_display(self, run):
        return human_seconds(run.duration)

    @admin.display(description="args")
    def args_json(self, run):
        return format_html("<pre>{}</pre>", json.dumps(run.args, indent=2))

    @admin.display(description="kwargs")
    def kwargs_json(self, run):
        return format_html("<pre>{}</pre>", json.dumps(run.kwargs, indent=2))

    @admin.display(description="result")
    def result_json(self, run):
        if run.result is None:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(run.result, indent=2)[:20000])

    @admin.display(description="traceback")
    def traceback_display(self, run):
        return format_html("<pre>{}</pre>", run.error_traceback) if run.error_traceback else "-"

    # --- the change view: attempts timeline and the chain -----------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if run is not None:
            extra_context.update(
                run=run,
                attempt_rows=list(run.attempts.all()),
                children=list(run.children.only("id", "task_path", "status").order_by("enqueued_at")[:50]),
                retries=list(run.retries.only("id", "task_path", "status").order_by("enqueued_at")[:20]),
                can_act=super().has_change_permission(request),
                can_cancel=run.status in RunStatus.active() and not run.cancel_requested_at,
                can_retry=run.is_finished,
                ws_path=f"/ws/runs/{run.pk}/",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- actions --------------------------------------------------------------------

    @admin.action(description="Retry: a new run with the same arguments", permissions=["change"])
    def retry_runs(self, request, queryset):
        eligible = [run for run in queryset if run.is_finished]
        for run in eligible:
            retry_run(run, user=request.user)
        skipped = queryset.count() - len(eligible)
        self.message_user(request, f"Retried {len(eligible)} run(s); skipped {skipped} unfinished.",
                          messages.SUCCESS if eligible else messages.WARNING)

    @admin.action(description="Retry with edited arguments…", permissions=["change"])
    def retry_with_edited_args(self, request, queryset):
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one run to retry with edited arguments.", messages.WARNING)
            return None
        return redirect("admin:jobs_jobrun_retry_edit", selected[0].pk)

    @admin.action(description="Cancel", permissions=["change"])
    def cancel_runs(self, request, queryset):
        cancelled = requested = 0
        for run in queryset.active():
            outcome = cancel_run(run)
            cancelled += outcome == "cancelled"
            requested += outcome == "requested"
        self.message_user(request, f"Cancelled {cancelled} run(s); asked {requested} running run(s) to stop.",
                          messages.SUCCESS if cancelled or requested else messages.WARNING)

    # --- extra views ---------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:run_id>/retry-edit/", view(self.retry_edit_view), name="jobs_jobrun_retry_edit"),
            path("<uuid:run_id>/cancel/", view(self.cancel_view), name="jobs_jobrun_cancel"),
            path("<uuid:run_id>/retry/", view(self.retry_view), name="jobs_jobrun_retry"),
            path("purge/", view(self.purge_view), name="jobs_jobrun_purge"),
            path("retry-dead/", view(partial(retry_dead_view, self)), name="jobs_jobrun_retry_dead"),
            *super().get_urls(),
        ]

    def _acting_on(self, request, run_id):
        """The run a POSTed button acts on, for a user allowed to act (the actions' "change")."""
        if not super().has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(JobRun, pk=run_id)

    def _back(self, request, run):
        """Where a button sends the operator: `next` when it is one of our pages, else the run's page."""
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return HttpResponseRedirect(target)
        return redirect("admin:jobs_jobrun_change", run.pk)

    def cancel_view(self, request, run_id):
        """POST: cancel one run (a running one is asked to stop)."""
        run = self._acting_on(request, run_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        outcome = cancel_run(run)
        if outcome == "cancelled":
            self.message_user(request, f"Cancelled run {str(run.pk)[:8]}.", messages.SUCCESS)
        elif outcome == "requested":
            self.message_user(request, f"Asked run {str(run.pk)[:8]} to stop at its next progress report.",
                              messages.SUCCESS)
        else:
            self.message_user(request, f"Run {str(run.pk)[:8]} had already finished; nothing cancelled.",
                              messages.WARNING)
        return self._back(request, run)

    def retry_view(self, request, run_id):
        """POST: a new run of a finished run's task with the same arguments."""
        run = self._acting_on(request, run_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not run.is_finished:
            self.message_user(request, f"Run {str(run.pk)[:8]} has not finished; only a finished run is retried.",
                              messages.WARNING)
            return self._back(request, run)
        try:
            result = retry_run(run, user=request.user)
        except (LookupError, ValueError, TypeError) as exc:
            self.message_user(request, f"Could not retry run {str(run.pk)[:8]}: {exc}", messages.ERROR)
            return self._back(request, run)
        self.message_user(request, format_html('Retried as run <a href="{}">{}</a>.',
                                               reverse("admin:jobs_jobrun_change", args=[result.id]),
                                               str(result.id)[:8]), messages.SUCCESS)
        if request.POST.get("next"):
            return self._back(request, run)
        return redirect("admin:jobs_jobrun_change", result.id)

    def retry_edit_view(self, request, run_id):
        if not super().has_change_permission(request):
            raise PermissionDenied
        run = get_object_or_404(JobRun, pk=run_id)
        if request.method == "POST":
            form = RetryEditForm(request.POST, run=run)
            if form.is_valid():
                result = retry_run(run, args=form.cleaned_data["args"], kwargs=form.cleaned_data["kwargs"],
                                   user=request.user)
                self.message_user(request, "Enqueued a retry with edited arguments.", messages.SUCCESS)
                return redirect("admin:jobs_jobrun_change", result.id)
        else:
            form = RetryEditForm(run=run, initial={"args": json.dumps(run.args, indent=2),
                                                   "kwargs": json.dumps(run.kwargs, indent=2)})
        context = {**self.admin_site.each_context(request), "title": f"Retry {run.task_path} with edited arguments",
                   "form": form, "run": run, "opts": self.model._meta,
                   "task_hints": {"__task__": run.task_path, **hints([get_task(run.task_path)])}
                   if run.task_path in {t.module_path for t in catalog()} else {}}
        return TemplateResponse(request, "admin/jobs/jobrun/retry_edit.html", context)

    def purge_view(self, request):
        if not request.user.has_perm("jobs.delete_jobrun"):
            raise PermissionDenied
        form = PurgeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            deleted = purge_finished_runs(days=form.cleaned_data["days"])
            self.message_user(request, f"Purged {deleted} finished run(s) older than "
                                       f"{form.cleaned_data['days']} days.", messages.SUCCESS)
            return redirect("admin:jobs_jobrun_changelist")
        context = {**self.admin_site.each_context(request), "title": "Purge finished runs", "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/jobs/jobrun/purge.html", context)
