"""The run API's doors: URLs by role, CSRF and methods, fuzzed input, and the OpenAPI document."""

import json
import random
import uuid

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from jobs.api.views import SCHEMA_PATH
from jobs.models import JobRun
from jobs.samples import returns_42
from tests.jobs.api_cast import (  # noqa: F401 - cast, operator, viewer: fixtures
    ROLES, cast, client_for, committed, operator, post, viewer,
)


# Rolled-back tests, except where a run must really be dispatched (after commit) or worked on.
pytestmark = pytest.mark.django_db


# --- URLs by role ------------------------------------------------------------------------------


def urls_by_method(run_id):
    return [
        ("get", reverse("jobs:api-runs")),
        ("get", reverse("jobs:api-run", args=[run_id])),
        ("post", reverse("jobs:api-runs")),
        ("post", reverse("jobs:api-run-cancel", args=[run_id])),
        ("post", reverse("jobs:api-run-retry", args=[run_id])),
    ]


READ = {"anonymous": 401, "outsider": 403, "staff": 403, "viewer": 200, "operator": 200,
        "viewer_token": 200, "operator_token": 200, "bad_token": 401}
WRITE = {**READ, "viewer": 403, "viewer_token": 403}


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_rules_say(role, cast):
    finished = JobRun.objects.get(pk=returns_42.enqueue().id)
    JobRun.objects.filter(pk=finished.pk).update(status="succeeded", finished_at=timezone.now())
    client = client_for(role, cast)
    body = {"task": "jobs.samples.noop"}
    seen = {}
    for method, url in urls_by_method(finished.pk):
        response = client.get(url) if method == "get" else post(client, url, body)
        assert response["Content-Type"] == "application/json"
        seen[(method, url)] = response.status_code
    expected_write = {"post": WRITE[role]}
    for (method, url), status in seen.items():
        expected = READ[role] if method == "get" else expected_write["post"]
        if expected == 200 and method == "post":
            expected = 201 if not url.endswith("/cancel") else 409  # a finished run cannot be cancelled
        assert status == expected, (role, method, url, status)


def test_a_session_write_needs_the_csrf_token_but_a_token_write_does_not(cast):
    session = Client(enforce_csrf_checks=True)
    session.force_login(cast["operator"])
    assert post(session, reverse("jobs:api-runs"), {"task": "jobs.samples.noop"}).status_code == 403
    token = client_for("operator_token", cast)
    token.handler.enforce_csrf_checks = True
    assert post(token, reverse("jobs:api-runs"), {"task": "jobs.samples.noop"}).status_code == 201


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(operator):
    response = operator.delete(reverse("jobs:api-runs"))
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    run_id = returns_42.enqueue().id
    assert operator.get(reverse("jobs:api-run-cancel", args=[run_id])).status_code == 405


# --- fuzz ----------------------------------------------------------------------------------

JUNK = [None, True, 0, -1, 10**30, 1.5, float("1e308"), "", "x" * 300, "ü\x00", [], {}, [[[]]], {"a": {"b": []}},
        "jobs.samples.noop", "2026-01-01T00:00:00Z", "..", "%00", "'; DROP TABLE jobs_jobrun; --"]


def test_fuzzed_list_parameters_never_fail_the_server(viewer):
    rng = random.Random(12)
    names = ["task", "status", "queue", "created_after", "created_before", "limit", "cursor", "other"]
    for _ in range(150):
        params = {rng.choice(names): str(rng.choice(JUNK)) for _ in range(rng.randint(1, 4))}
        response = viewer.get(reverse("jobs:api-runs"), params)
        assert response.status_code in (200, 400), (params, response.status_code)
        assert response["Content-Type"] == "application/json"


def test_fuzzed_enqueue_bodies_never_fail_the_server(operator):
    rng = random.Random(21)
    names = ["task", "args", "kwargs", "queue", "priority", "delay", "junk"]
    for _ in range(150):
        body = {rng.choice(names): rng.choice(JUNK) for _ in range(rng.randint(0, 5))}
        if rng.random() < 0.5:
            body["task"] = rng.choice(["jobs.samples.noop", "jobs.samples.echo", "jobs.samples.sleeps"])
        response = post(operator, reverse("jobs:api-runs"), body,
                        **({"HTTP_IDEMPOTENCY_KEY": str(rng.choice(JUNK))[:300]} if rng.random() < 0.3 else {}))
        assert response.status_code in (200, 201, 400, 422), (body, response.status_code, response.content[:300])
        assert response["Content-Type"] == "application/json"


def test_fuzzed_run_ids_are_404s(viewer, operator):
    for value in ["0", "not-a-uuid", "00000000-0000-0000-0000-00000000000g"]:
        assert viewer.get(f"/api/runs/{value}").status_code == 404
    assert operator.post(f"/api/runs/{uuid.uuid4()}/retry").status_code == 404


# --- the OpenAPI document ------------------------------------------------------------------


@committed
def test_the_openapi_document_describes_every_route_and_the_fields_returned(operator, work, client):
    response = client.get(reverse("jobs:api-openapi"))
    assert response.status_code == 200
    schema = response.json()
    assert schema == json.loads(SCHEMA_PATH.read_text())
    routes = {
        "/" + str(pattern.pattern).replace("<uuid:run_id>", "{run_id}")
        for pattern in get_resolver().url_patterns
        for pattern in getattr(pattern, "url_patterns", [pattern])
        if str(pattern.pattern).startswith("api/runs/")
    }
    assert routes == set(schema["paths"])

    run_id = post(operator, reverse("jobs:api-runs"), {"task": "jobs.samples.returns_42"}).json()["id"]
    work()
    detail = operator.get(reverse("jobs:api-run", args=[run_id])).json()
    summary = operator.get(reverse("jobs:api-runs")).json()["results"][0]
    components = schema["components"]["schemas"]
    summary_fields = set(components["RunSummary"]["properties"])
    detail_fields = summary_fields | set(components["RunDetail"]["allOf"][1]["properties"])
    assert set(summary) == summary_fields == set(components["RunSummary"]["required"])
    assert set(detail) == detail_fields
    assert set(detail["attempts"][0]) == set(components["Attempt"]["properties"])
