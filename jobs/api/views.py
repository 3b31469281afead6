"""The run API's views (routes in jobs/urls.py)."""

from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ..control import cancel_run, retry_run
from ..models import JobRun
from .auth import api_view, error
from .enqueue import enqueue_run
from .listing import list_runs
from .representation import run_detail

SCHEMA_PATH = Path(__file__).with_name("openapi.json")


@api_view("GET", "POST")
def runs_collection(request):
    if request.method == "POST":
        return enqueue_run(request)
    return list_runs(request)


@api_view("GET")
def run_view(request, run_id):
    return JsonResponse(run_detail(JobRun.objects.get(pk=run_id)))


@api_view("POST")
def cancel_view(request, run_id):
    run = JobRun.objects.get(pk=run_id)
    outcome = cancel_run(run)
    if outcome is None:
        return error(409, f"The run is {run.status}; there is nothing to cancel.")
    run.refresh_from_db()
    return JsonResponse({"outcome": outcome, "run": run_detail(run)})


@api_view("POST")
def retry_view(request, run_id):
    run = JobRun.objects.get(pk=run_id)
    if not run.is_finished:
        return error(409, f"The run is {run.status}; only finished runs can be retried.")
    try:
        result = retry_run(run, user=request.user)
    except LookupError:
        return error(409, f"The task {run.task_path} no longer exists.")
    response = JsonResponse(run_detail(JobRun.objects.get(pk=result.id)), status=201)
    response["Location"] = reverse("jobs:api-run", args=[result.id])
    return response


@require_safe
def openapi_schema(request):
    """The API's OpenAPI 3.1 document (public: it describes, it reveals no run)."""
    return HttpResponse(SCHEMA_PATH.read_bytes(), content_type="application/json")
