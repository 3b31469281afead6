"""The run API: URLs by role, filters and cursors, enqueue with idempotency keys, cancel, retry,
fuzzed input, query bounds and the OpenAPI document."""

import json
import random
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from jobs.api.views import SCHEMA_PATH
from jobs.models import IdempotencyKey, JobRun
from jobs.samples import echo, fails_n_times, returns_42
from memory.models import ApiToken
from tests.users import make_operator, make_outsider, make_staff

# Rolled-back tests, except where a run must really be dispatched (after commit) or worked on.
pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)

ROLES = ["anonymous", "outsider", "staff", "viewer", "operator", "viewer_token", "operator_token", "bad_token"]


class Cast(dict):
    """The shared cast, each user made on first use (password hashing makes a user cost ~0.5 s)."""

    MAKERS = {
        "outsider": make_outsider,
        "staff": lambda: make_staff("staff"),
        "viewer": lambda: make_staff("viewer", perms=["jobs.view_jobrun"]),
        "operator": make_operator,
    }

    def __missing__(self, role):
        user = self[role] = self.MAKERS[role]()
        return user


@pytest.fixture
def cast():
    return Cast()


def client_for(role, cast):
    """A client acting as `role`: a session login, a bearer token, or nobody."""
    if role == "anonymous":
        return Client()
    if role == "bad_token":
        return Client(HTTP_AUTHORIZATION="Bearer engram_not-a-token")
    if role.endswith("_token"):
        secret = ApiToken.issue(cast[role.removesuffix("_token")], "ci")
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client = Client()
    client.force_login(cast[role])
    return client


def post(client, url, data=None, **headers):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


@pytest.fixture
def operator(cast):
    return client_for("operator_token", cast)


@pytest.fixture
def viewer(cast):
    return client_for("viewer_token", cast)


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


# --- list ----------------------------------------------------------------------------------


def make_runs():
    now = timezone.now()
    ids = {}
    for index, (task, queue, status) in enumerate([
        ("jobs.samples.noop", "default", "queued"),
        ("jobs.samples.returns_42", "default", "succeeded"),
        ("jobs.samples.returns_42", "topics", "dead"),
        ("jobs.samples.noop", "topics", "cancelled"),
    ]):
        run = JobRun.objects.create(task_path=task, queue=queue, status=status,
                                    enqueued_at=now - timedelta(hours=index))
        ids[(task, queue, status)] = str(run.pk)
    return now, ids


def listed(client, **params):
    response = client.get(reverse("jobs:api-runs"), params)
    assert response.status_code == 200, response.content
    return [run["id"] for run in response.json()["results"]]


def test_the_list_is_newest_first_and_filters_by_task_status_queue_and_created_range(viewer):
    now, ids = make_runs()
    everything = list(ids.values())
    assert listed(viewer) == everything
    assert listed(viewer, task="jobs.samples.returns_42") == everything[1:3]
    assert listed(viewer, status="dead,cancelled") == everything[2:]
    assert listed(viewer, queue="topics", status="dead") == [everything[2]]
    assert listed(viewer, created_after=(now - timedelta(minutes=90)).isoformat()) == everything[:2]
    assert listed(viewer, created_before=(now - timedelta(minutes=90)).isoformat()) == everything[2:]


def test_the_list_pages_by_cursor_through_equal_timestamps(viewer):
    same = timezone.now()
    created = {str(JobRun.objects.create(task_path="jobs.samples.noop", queue="default", enqueued_at=same).pk)
               for _ in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = viewer.get(reverse("jobs:api-runs"), params).json()
        seen += [run["id"] for run in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == created


@pytest.mark.parametrize("params, field", [
    ({"status": "exploded"}, "status"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"created_after": "yesterday"}, "created_after"),
    ({"created_before": "2026-13-45T00:00:00"}, "created_before"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ({"cursor": "%%%"}, "cursor"),
    ({"task": "jobs.samples.noop\x00"}, "task"),
])
def test_bad_list_parameters_are_400_with_field_errors(viewer, params, field):
    response = viewer.get(reverse("jobs:api-runs"), params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_list_takes_a_bounded_number_of_queries(viewer, django_assert_max_num_queries):
    for _ in range(30):
        returns_42.enqueue()
    viewer.get(reverse("jobs:api-runs"))  # the token's first use records it
    with django_assert_max_num_queries(4):  # the token, the permissions (user, groups), the page
        assert len(viewer.get(reverse("jobs:api-runs")).json()["results"]) == 30


# --- detail --------------------------------------------------------------------------------


@committed
def test_a_run_shows_its_attempts_with_timings_and_errors_progress_and_result(viewer, work):
    run_id = fails_n_times.enqueue("api", 1).id
    work()
    body = viewer.get(reverse("jobs:api-run", args=[run_id])).json()
    assert body["status"] == "succeeded" and body["result"] == 2
    assert body["args"] == ["api", 1] and body["kwargs"] == {}
    first, second = body["attempts"]
    assert first["outcome"] == "failed" and first["error_type"] == "builtins.RuntimeError"
    assert first["error_message"] == "planned failure 1 of 1"
    assert first["duration_seconds"] >= 0 and second["outcome"] == "succeeded"
    assert body["progress"] == {"done": 0, "total": None, "message": "", "fraction": None}


def test_an_unknown_run_is_a_404(viewer):
    assert viewer.get(reverse("jobs:api-run", args=[uuid.uuid4()])).status_code == 404


# --- enqueue -------------------------------------------------------------------------------


@committed
def test_posting_a_run_enqueues_a_catalog_task_with_validated_arguments(operator, cast, work):
    response = post(operator, reverse("jobs:api-runs"),
                    {"task": "jobs.samples.echo", "args": [1, "two"], "kwargs": {"three": 3}, "priority": 10})
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == body["url"] == reverse("jobs:api-run", args=[body["id"]])
    run = JobRun.objects.get(pk=body["id"])
    assert (run.args, run.kwargs, run.lane, run.trigger) == ([1, "two"], {"three": 3}, "high", "api")
    assert run.enqueued_by == cast["operator"]
    work()
    assert JobRun.objects.get(pk=body["id"]).result == {"args": [1, "two"], "kwargs": {"three": 3}}


@committed
def test_a_delayed_run_waits_for_its_time(operator):
    body = post(operator, reverse("jobs:api-runs"), {"task": "jobs.samples.noop", "delay": 3600}).json()
    assert body["status"] == "scheduled"
    assert JobRun.objects.get(pk=body["id"]).run_after > timezone.now() + timedelta(minutes=59)


@pytest.mark.parametrize("body, field", [
    ({}, "task"),
    ({"task": "os.system"}, "task"),  # importable, but not a task of the catalog
    ({"task": "jobs.samples.returns_42", "args": [1]}, "args"),
    ({"task": "jobs.samples.fails_n_times", "kwargs": {"nope": 1}}, "args"),
    ({"task": "jobs.samples.noop", "args": {"a": 1}}, "args"),
    ({"task": "jobs.samples.noop", "kwargs": [1]}, "kwargs"),
    ({"task": "jobs.samples.noop", "queue": "nowhere"}, "queue"),
    ({"task": "jobs.samples.noop", "priority": 101}, "priority"),
    ({"task": "jobs.samples.noop", "priority": "high"}, "priority"),
    ({"task": "jobs.samples.noop", "priority": True}, "priority"),
    ({"task": "jobs.samples.noop", "delay": -1}, "delay"),
    ({"task": "jobs.samples.noop", "when": "now"}, "__all__"),
    ({"task": "jobs.samples.echo", "args": ["nul\x00"]}, "__all__"),
])
def test_bad_enqueue_input_is_400_with_field_errors_and_no_run(operator, body, field):
    response = post(operator, reverse("jobs:api-runs"), body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not JobRun.objects.exists()


@pytest.mark.parametrize("raw", ["[1, 2]", "not json", '{"task": NaN}', "\"text\""])
def test_a_body_that_is_not_a_json_object_is_400(operator, raw):
    response = operator.post(reverse("jobs:api-runs"), raw, content_type="application/json")
    assert response.status_code == 400


def test_an_idempotency_key_replays_the_first_run_and_refuses_another_body(operator, viewer, cast):
    url = reverse("jobs:api-runs")
    body = {"task": "jobs.samples.echo", "args": [7]}
    first = post(operator, url, body, HTTP_IDEMPOTENCY_KEY="order-17")
    again = post(operator, url, body, HTTP_IDEMPOTENCY_KEY="order-17")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert JobRun.objects.count() == 1
    other = post(operator, url, {"task": "jobs.samples.echo", "args": [8]}, HTTP_IDEMPOTENCY_KEY="order-17")
    assert other.status_code == 422 and JobRun.objects.count() == 1
    # Keys belong to their user; without a key every request is a new run.
    someone_else = client_for("operator_token", {"operator": make_operator("operator2")})
    assert post(someone_else, url, body, HTTP_IDEMPOTENCY_KEY="order-17").status_code == 201
    assert post(operator, url, body).status_code == 201
    assert JobRun.objects.count() == 3 and IdempotencyKey.objects.count() == 2


@committed
@pytest.mark.parametrize("key", ["x" * 256, "two words", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_400(operator, key):
    response = post(operator, reverse("jobs:api-runs"), {"task": "jobs.samples.noop"},
                    HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


@committed
def test_a_unique_task_enqueued_twice_gives_the_active_run_back(operator):
    body = {"task": "jobs.samples.unique_sleep", "args": ["k"]}
    first, second = (post(operator, reverse("jobs:api-runs"), body, HTTP_IDEMPOTENCY_KEY=key) for key in "ab")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"] and JobRun.objects.count() == 1


def test_an_idempotency_key_that_lost_a_race_rolls_back_its_run(operator, cast, monkeypatch):
    """The unique constraint decides between two requests that both found no key."""
    from jobs.api import enqueue as api

    winner = JobRun.objects.get(pk=echo.enqueue(7).id)
    body = {"task": "jobs.samples.echo", "args": [7]}

    class NotYet:
        def filter(self, **lookups):
            monkeypatch.undo()  # the next lookup (after the IntegrityError) sees the real table
            return IdempotencyKey.objects.none()

    IdempotencyKey.objects.create(user=cast["operator"], key="k", request_digest=api._digest(body), run=winner)
    monkeypatch.setattr(api.IdempotencyKey, "objects", NotYet())
    response = post(operator, reverse("jobs:api-runs"), body, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200 and response.json()["id"] == str(winner.pk)
    assert JobRun.objects.count() == 1


# --- cancel and retry ----------------------------------------------------------------------


def test_cancelling_a_waiting_run_cancels_it_and_a_finished_one_is_a_409(operator):
    run_id = returns_42.enqueue().id
    response = post(operator, reverse("jobs:api-run-cancel", args=[run_id]))
    assert response.status_code == 200
    assert response.json()["outcome"] == "cancelled" and response.json()["run"]["status"] == "cancelled"
    assert post(operator, reverse("jobs:api-run-cancel", args=[run_id])).status_code == 409


def test_cancelling_a_running_run_asks_it_to_stop(operator):
    run, _ = JobRun.claim(returns_42.enqueue().id, "w", "h", 1)
    body = post(operator, reverse("jobs:api-run-cancel", args=[run.pk])).json()
    assert body["outcome"] == "requested" and body["run"]["cancel_requested_at"]


@committed
def test_retrying_a_finished_run_enqueues_a_linked_copy_and_an_active_one_is_a_409(operator, cast, work):
    run_id = echo.enqueue("again").id
    assert post(operator, reverse("jobs:api-run-retry", args=[run_id])).status_code == 409
    work()
    response = post(operator, reverse("jobs:api-run-retry", args=[run_id]))
    assert response.status_code == 201
    body = response.json()
    assert body["retry_of"] == str(run_id) and body["args"] == ["again"] and body["trigger"] == "retry"
    assert JobRun.objects.get(pk=body["id"]).enqueued_by == cast["operator"]


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
