"""The run API's writes: enqueue with validated arguments and idempotency keys, cancel and retry."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import IdempotencyKey, JobRun
from jobs.samples import echo, returns_42
from tests.jobs.api_cast import (  # noqa: F401 - cast, operator, viewer: fixtures
    cast, client_for, committed, operator, post, viewer,
)
from tests.users import make_operator


# Rolled-back tests, except where a run must really be dispatched (after commit) or worked on.
pytestmark = pytest.mark.django_db


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
