"""Helpers for the JSON API tests."""

import json

from jobs.models import JobRun


def post(client, url, data, method="post"):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return getattr(client, method)(url, body, content_type="application/json")


def runs_of(task_name):
    return JobRun.objects.filter(task_path__endswith=f".{task_name}")
