"""Staff pages outside admin: the live dashboard and one run's live page."""

import json
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from . import stats
from .context import triggered_by
from .dashboard_rows import status_rows
from .definitions import catalog, get_task
from .models import JobRun
from .signatures import hints
from .forms import TaskArgumentsForm
from .status import RunStatus, Trigger

RECENT_FAILURES = 20
ZERO_ID = "00000000-0000-0000-0000-000000000000"  # the placeholder the page's scripts replace with a run id


class EnqueueForm(TaskArgumentsForm):
    task = forms.ChoiceField()
    field_order = ["task", "args", "kwargs"]

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.fields["task"].choices = [(t.module_path, t.module_path) for t in catalog()]

    def task_path(self):
        return self.cleaned_data.get("task")


def _staff_viewer(view):
    """Staff with the permission to view runs; others are sent to log in or refused."""
    @login_required
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_staff and request.user.has_perm("jobs.view_jobrun")):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@_staff_viewer
def dashboard(request):
    form = EnqueueForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("jobs.change_jobrun"):
            raise PermissionDenied
        if form.is_valid():
            task = get_task(form.cleaned_data["task"])
            with triggered_by(user=request.user, trigger=Trigger.USER):
                result = task.enqueue(*form.cleaned_data["args"], **form.cleaned_data["kwargs"])
            messages.success(request, f"Enqueued {task.module_path}.")
            return redirect("jobs:run", run_id=result.id)
    since = timezone.now() - timedelta(hours=24)
    context = {
        "form": form,
        "running": JobRun.objects.running().order_by("started_at")[:50],
        "failures": JobRun.objects.filter(status__in=[RunStatus.DEAD, RunStatus.FAILED],
                                          status_changed_at__gte=since).order_by("-status_changed_at")[:RECENT_FAILURES],
        "queues": _queue_depths(),
        "can_enqueue": request.user.has_perm("jobs.change_jobrun"),
        "zero_run": {"pk": ZERO_ID},
        "status_rows": status_rows(),
        "task_hints": hints(catalog()),
    }
    return render(request, "jobs/dashboard.html", context)


@_staff_viewer
def dashboard_series(request):
    """The dashboard charts' data: throughput, failures and queue depth over the window (JSON)."""
    window = request.GET.get("window", "1h")
    if window not in stats.SERIES_WINDOWS:
        return JsonResponse({"error": f"window must be one of {', '.join(stats.SERIES_WINDOWS)}"}, status=400)
    return JsonResponse(stats.dashboard_series(window))


@_staff_viewer
def run_detail(request, run_id):
    run = get_object_or_404(JobRun, pk=run_id)
    return render(request, "jobs/run.html", {"run": run, "result_json": json.dumps(run.result, indent=2)})


def _queue_depths():
    from redis.exceptions import RedisError

    from .live import queue_depths

    try:
        return queue_depths()
    except RedisError:
        return None
