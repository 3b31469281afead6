"""The run API: list, read, enqueue, cancel and retry runs over JSON (schema: jobs/openapi.json).

Who may call it is decided by JOBS_API_AUTHENTICATORS (each sets request.user or answers with an
error response; the project plugs in its bearer tokens there, since jobs knows no token model),
then by the same rule as the dashboard: active staff with `jobs.view_jobrun` read, and
`jobs.change_jobrun` enqueues, cancels and retries.
"""

import base64
import functools
import hashlib
import json
import math
import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.tasks.exceptions import InvalidTask

from .context import triggered_by
from .control import cancel_run, retry_run
from .definitions import catalog
from .models import IdempotencyKey, JobRun
from .signatures import validate_arguments
from .status import RunStatus, Trigger

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_DELAY_SECONDS = 366 * 24 * 3600
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
SCHEMA_PATH = Path(__file__).with_name("openapi.json")


class InvalidInput(Exception):
    """Input that failed validation; carries {field: [messages]}."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def error(status, message):
    return JsonResponse({"error": message}, status=status)


# --- authentication ------------------------------------------------------------------------


def session_auth(request):
    """The default authenticator: Django's session, with CSRF checked on writes."""
    if request.user.is_authenticated and request.method not in SAFE_METHODS:
        rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if rejected is not None:
            return error(403, "CSRF verification failed.")
    return None


@functools.cache
def _authenticators(paths):
    return [import_string(path) for path in paths]


def authenticate(request):
    """Run JOBS_API_AUTHENTICATORS in order; return the first error response, or None."""
    paths = tuple(getattr(settings, "JOBS_API_AUTHENTICATORS", None) or ["jobs.api.session_auth"])
    for authenticator in _authenticators(paths):
        rejected = authenticator(request)
        if rejected is not None:
            return rejected
    return None


def api_view(*methods, permission="jobs.view_jobrun"):
    """Authenticate, check the permission, and answer errors and wrong methods in JSON."""

    def decorate(view):
        @csrf_exempt  # checked by the authenticators, for session-authenticated writes only
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            rejected = authenticate(request)
            if rejected is not None:
                return rejected
            user = request.user
            if not user.is_authenticated:
                return error(401, "Authentication required: log in or send an Authorization: Bearer token.")
            needed = [permission] if request.method in SAFE_METHODS else [permission, "jobs.change_jobrun"]
            if not (user.is_active and user.is_staff and user.has_perms(needed)):
                return error(403, "You may not " + ("view runs." if request.method in SAFE_METHODS
                                                   else "enqueue, cancel or retry runs."))
            try:
                return view(request, *args, **kwargs)
            except InvalidInput as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            except JobRun.DoesNotExist:
                return error(404, "Not found.")

        return wrapper

    return decorate


# --- representation ------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def _seconds(start, end):
    return round((end - start).total_seconds(), 6) if start and end else None


def run_summary(run):
    """A run as the list shows it."""
    return {
        "id": str(run.pk),
        "url": reverse("jobs:api-run", args=[run.pk]),
        "task": run.task_path,
        "status": run.status,
        "queue": run.queue,
        "lane": run.lane,
        "priority": run.priority,
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "trigger": run.trigger,
        "enqueued_at": _iso(run.enqueued_at),
        "run_after": _iso(run.run_after),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "progress": {"done": run.progress_done, "total": run.progress_total, "message": run.progress_message,
                     "fraction": run.progress_fraction},
        "error_type": run.error_type or None,
        "parent": str(run.parent_id) if run.parent_id else None,
        "root": str(run.root_id) if run.root_id else None,
        "retry_of": str(run.retry_of_id) if run.retry_of_id else None,
        "request_id": run.request_id or None,
    }


def run_detail(run):
    """A run with its arguments, result, error and attempts."""
    return {
        **run_summary(run),
        "args": run.args,
        "kwargs": run.kwargs,
        # The ledger only keeps JSON results (capped at JOBS_RESULT_MAX_BYTES, then a __truncated__ marker).
        "result": run.result if run.status == RunStatus.SUCCEEDED else None,
        "error_message": run.error_message or None,
        "worker": run.worker_name or None,
        "cancel_requested_at": _iso(run.cancel_requested_at),
        "attempts": [
            {"number": a.number, "outcome": a.outcome, "worker": a.worker_name or None,
             "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
             "duration_seconds": _seconds(a.started_at, a.finished_at),
             "error_type": a.error_type or None, "error_message": a.error_message or None}
            for a in run.attempts.all()
        ],
    }


# --- list ----------------------------------------------------------------------------------


def _encode_cursor(run):
    raw = json.dumps([run.enqueued_at.isoformat(), str(run.pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(value):
    try:
        enqueued, pk = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        enqueued_at = parse_datetime(enqueued)
        JobRun._meta.pk.to_python(pk)
    except (ValueError, TypeError, ValidationError) as exc:  # binascii.Error and JSON errors are ValueErrors
        raise InvalidInput({"cursor": ["Invalid cursor."]}) from exc
    if enqueued_at is None:
        raise InvalidInput({"cursor": ["Invalid cursor."]})
    return enqueued_at, pk


def _datetime_param(params, name, errors):
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        errors[name] = ["Enter an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z."]
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _list_filters(params):
    errors = {name: ["Must not contain NUL characters."] for name, value in params.items() if "\x00" in value}
    if errors:  # PostgreSQL text cannot hold one: the query would fail rather than find nothing
        raise InvalidInput(errors)
    filters = {}
    statuses = [s for s in params.get("status", "").split(",") if s]
    unknown = [s for s in statuses if s not in RunStatus.values]
    if unknown:
        errors["status"] = [f"Unknown status {unknown[0]!r}; one of {', '.join(RunStatus.values)}."]
    elif statuses:
        filters["status__in"] = statuses
    for name, field in (("task", "task_path"), ("queue", "queue"), ("request_id", "request_id")):
        if params.get(name):
            filters[field] = params[name][:255]
    after = _datetime_param(params, "created_after", errors)
    before = _datetime_param(params, "created_before", errors)
    if after:
        filters["enqueued_at__gte"] = after
    if before:
        filters["enqueued_at__lt"] = before
    limit = DEFAULT_LIMIT
    if params.get("limit") is not None:
        try:
            limit = int(params["limit"])
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            errors["limit"] = [f"Enter a whole number from 1 to {MAX_LIMIT}."]
    if errors:
        raise InvalidInput(errors)
    return filters, limit


def list_runs(request):
    filters, limit = _list_filters(request.GET)
    runs = JobRun.objects.filter(**filters).order_by("-enqueued_at", "-id")
    if request.GET.get("cursor"):
        enqueued_at, pk = _decode_cursor(request.GET["cursor"])
        # Newest first, ties broken by id: the next page starts strictly after the cursor's run.
        runs = runs.filter(enqueued_at__lte=enqueued_at).exclude(enqueued_at=enqueued_at, id__gte=pk)
    page = list(runs[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return JsonResponse({
        "results": [run_summary(run) for run in page],
        "next_cursor": _encode_cursor(page[-1]) if more else None,
    })


# --- enqueue -------------------------------------------------------------------------------


def _json_body(request):
    if not request.body:
        return {}
    try:
        data = json.loads(request.body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput({"__all__": ["The body is not valid JSON."]}) from None
    if not isinstance(data, dict):
        raise InvalidInput({"__all__": ["The body must be a JSON object."]})
    if "\\u0000" in json.dumps(data):  # PostgreSQL's jsonb cannot store a NUL character
        raise InvalidInput({"__all__": ["The body must not contain NUL characters."]})
    return data


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _enqueue_request(data):
    """Validate the body of POST /api/runs/; return (task, args, kwargs, options)."""
    errors = {}
    tasks = {task.module_path: task for task in catalog()}
    path = data.get("task")
    task = tasks.get(path) if isinstance(path, str) else None
    if task is None:
        errors["task"] = ["Name a task of the catalog (`manage.py jobs catalog`)."]
    args, kwargs = data.get("args", []), data.get("kwargs", {})
    if not isinstance(args, list):
        errors["args"] = ["Must be a JSON list."]
    if not isinstance(kwargs, dict):
        errors["kwargs"] = ["Must be a JSON object."]
    options = {}
    queue = data.get("queue")
    if queue is not None:
        if queue not in settings.JOBS_QUEUES:
            errors["queue"] = [f"One of {', '.join(settings.JOBS_QUEUES)}."]
        else:
            options["queue_name"] = queue
    priority = data.get("priority")
    if priority is not None:
        if type(priority) is not int or not -100 <= priority <= 100:
            errors["priority"] = ["A whole number from -100 to 100."]
        else:
            options["priority"] = priority
    delay = data.get("delay")
    if delay is not None:
        if type(delay) not in (int, float) or not 0 <= delay <= MAX_DELAY_SECONDS or math.isnan(delay):
            errors["delay"] = [f"Seconds from 0 to {MAX_DELAY_SECONDS}."]
        elif delay:
            options["run_after"] = timezone.now() + timedelta(seconds=delay)
    unknown = sorted(set(data) - {"task", "args", "kwargs", "queue", "priority", "delay"})
    if unknown:
        errors["__all__"] = [f"Unknown field {unknown[0]!r}."]
    if task is not None and "args" not in errors and "kwargs" not in errors:
        try:
            validate_arguments(task, args, kwargs)
        except ValueError as exc:
            errors.setdefault("args", []).append(str(exc))
    if errors:
        raise InvalidInput(errors)
    return task, args, kwargs, options


def _digest(data):
    canonical = {name: data.get(name) for name in ("task", "args", "kwargs", "queue", "priority", "delay")}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _replay(existing, digest):
    if existing.request_digest != digest:
        return error(422, f"The {IDEMPOTENCY_HEADER} was used for a different request.")
    response = JsonResponse(run_detail(JobRun.objects.get(pk=existing.run_id)), status=200)
    response["Idempotent-Replayed"] = "true"
    return response


def enqueue_run(request):
    data = _json_body(request)
    task, args, kwargs, options = _enqueue_request(data)
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if key and not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput({IDEMPOTENCY_HEADER: ["At most 255 visible ASCII characters."]})
    digest = _digest(data)
    if key:
        existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return _replay(existing, digest)
    try:
        with transaction.atomic():
            with triggered_by(user=request.user, trigger=Trigger.API):
                result = task.using(**options).enqueue(*args, **kwargs)
            if key:
                IdempotencyKey.objects.create(user=request.user, key=key, request_digest=digest, run_id=result.id)
    except IntegrityError:
        # A concurrent request with the same key won; its run stands, ours rolled back with the key.
        existing = IdempotencyKey.objects.filter(user=request.user, key=key).first() if key else None
        if existing is None:
            raise
        return _replay(existing, digest)
    except (InvalidTask, TypeError) as exc:
        raise InvalidInput({"__all__": [str(exc)]}) from None
    response = JsonResponse(run_detail(JobRun.objects.get(pk=result.id)), status=201)
    response["Location"] = reverse("jobs:api-run", args=[result.id])
    return response


# --- views ---------------------------------------------------------------------------------


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
