"""GET /api/runs/: filters, newest first, and cursors that survive new runs and equal timestamps."""

import base64
import json

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import safe_json
from ..models import JobRun
from ..status import RunStatus
from .auth import InvalidInput
from .representation import run_summary

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


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
    try:
        return _in_range(enqueued_at), pk
    except safe_json.UnsafeInput as exc:
        raise InvalidInput({"cursor": ["Invalid cursor."]}) from exc


def _in_range(value):
    """The aware datetime in UTC, or UnsafeInput when PostgreSQL or Python could not hold it."""
    return safe_json.check_datetime(value if timezone.is_aware(value) else timezone.make_aware(value))


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
    try:
        return _in_range(value)
    except safe_json.UnsafeInput as exc:
        errors[name] = [exc.sentence]
        return None


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
