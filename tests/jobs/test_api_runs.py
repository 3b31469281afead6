"""The run API's reads: the list (filters, cursors, bad parameters, query bounds) and a run's detail."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import JobRun
from jobs.samples import fails_n_times, returns_42
from tests.jobs.api_cast import cast, committed, viewer  # noqa: F401 - cast, viewer: fixtures


# Rolled-back tests, except where a run must really be dispatched (after commit) or worked on.
pytestmark = pytest.mark.django_db


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
