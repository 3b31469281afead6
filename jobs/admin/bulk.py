"""Bulk operator actions behind a confirmation page: retry every dead run, empty a queue.

Both show what they will touch (a count and a sample) on GET and act on POST; both call the
domain API per run (retry_run, cancel_run) so the ledger, Redis and the live events stay in step.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ..conf import jobs_settings
from ..control import cancel_run, retry_run
from ..definitions import catalog
from ..models import JobRun
from ..status import RunStatus

# One POST does at most this many runs: a request must finish; the page says how many are left.
BULK_LIMIT = 500


class DeadFilterForm(forms.Form):
    """Which dead runs: by task, queue and how recently they died. Only never-retried runs count."""

    task = forms.ChoiceField(required=False)
    queue = forms.ChoiceField(required=False)
    hours = forms.IntegerField(required=False, min_value=1, max_value=24 * 365,
                               help_text="Only runs that died in the last N hours (empty: any time).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].choices = [("", "any task"), *((t.module_path, t.module_path) for t in catalog())]
        self.fields["queue"].choices = [("", "any queue"), *((q, q) for q in jobs_settings.QUEUES)]

    def runs(self):
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        runs = JobRun.objects.dead().filter(retries__isnull=True)
        if data.get("task"):
            runs = runs.filter(task_path=data["task"])
        if data.get("queue"):
            runs = runs.filter(queue=data["queue"])
        if data.get("hours"):
            runs = runs.filter(finished_at__gte=timezone.now() - timedelta(hours=data["hours"]))
        return runs.order_by("finished_at")


def retry_dead_view(model_admin, request):
    """GET: how many dead runs the filter selects, and a sample; POST: retry them (oldest first)."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    form = DeadFilterForm(request.POST if request.method == "POST" else request.GET or None)
    runs = form.runs()
    if request.method == "POST" and form.is_valid():
        batch = list(runs[:BULK_LIMIT])
        retried = failed = 0
        for run in batch:
            try:
                retry_run(run, user=request.user)
                retried += 1
            except (LookupError, ValueError, TypeError):
                failed += 1
        left = runs.count()
        text = f"Retried {retried} dead run(s)."
        if failed:
            text += f" {failed} could not be retried (their task is gone or its arguments no longer fit)."
        if left:
            text += f" {left} more match; confirm again to retry the next {min(left, BULK_LIMIT)}."
        model_admin.message_user(request, text, messages.SUCCESS if retried else messages.WARNING)
        return redirect(f"{reverse('admin:jobs_jobrun_changelist')}?status=dead")
    context = {
        **model_admin.admin_site.each_context(request), "title": "Retry all dead runs", "form": form,
        "count": runs.count() if not form.errors else 0, "sample": list(runs[:10]) if not form.errors else [],
        "limit": BULK_LIMIT, "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/jobs/jobrun/retry_dead.html", context)


def empty_queue_view(model_admin, request, queue):
    """GET: what emptying `queue` cancels; POST: cancel every run waiting in it (all lanes)."""
    if not request.user.has_perm("jobs.operate_queues"):
        raise PermissionDenied
    if queue not in jobs_settings.QUEUES:
        raise Http404(f"unknown queue {queue!r}")
    waiting = JobRun.objects.filter(queue=queue, status__in=[RunStatus.PENDING, RunStatus.QUEUED,
                                                              RunStatus.SCHEDULED, RunStatus.FAILED])
    if request.method == "POST":
        cancelled = sum(cancel_run(run) == "cancelled" for run in waiting.order_by("enqueued_at")[:BULK_LIMIT])
        left = waiting.count()
        text = f"Emptied queue {queue}: cancelled {cancelled} waiting run(s); running runs were left alone."
        if left:
            text += f" {left} still wait; confirm again to cancel the next {min(left, BULK_LIMIT)}."
        model_admin.message_user(request, text, messages.SUCCESS if cancelled else messages.WARNING)
        return redirect("admin:jobs_worker_queues")
    by_status = {row["status"]: row["n"] for row in waiting.values("status").order_by().annotate(n=Count("pk"))}
    context = {
        **model_admin.admin_site.each_context(request), "title": f"Empty queue {queue}", "queue": queue,
        "count": sum(by_status.values()), "by_status": {RunStatus(k).label: v for k, v in by_status.items()},
        "sample": list(waiting.order_by("enqueued_at")[:10]), "limit": BULK_LIMIT, "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/jobs/ops/empty_queue.html", context)
