"""POST /api/runs/: enqueue a catalog task with checked arguments, idempotent with a key."""

import hashlib
import json
import math
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.tasks.exceptions import InvalidTask
from django.urls import reverse
from django.utils import timezone

from ..conf import jobs_settings
from ..context import triggered_by
from ..definitions import catalog
from ..models import IdempotencyKey, JobRun
from ..signatures import validate_arguments
from ..status import Trigger
from .auth import InvalidInput, error
from .representation import run_detail

MAX_DELAY_SECONDS = 366 * 24 * 3600
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


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
        if queue not in jobs_settings.QUEUES:
            errors["queue"] = [f"One of {', '.join(jobs_settings.QUEUES)}."]
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
