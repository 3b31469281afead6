"""The enqueue and schedule forms: task hints, errors next to their field, the live fire-time preview."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from jobs.signatures import argument_field, describe, hints
from jobs.definitions import get_task
from tests.jobs.test_schedule_admin import ADD, form_data
from tests.users import make_operator, make_staff

pytestmark = pytest.mark.django_db

PREVIEW = reverse("admin:jobs_schedule_preview")


@pytest.fixture
def client():
    client = Client()
    client.force_login(make_operator())
    return client


def test_a_task_is_described_by_its_signature_and_docstring():
    hint = describe(get_task("jobs.samples.fails_first_time"))
    assert hint["signature"] == "(key)"
    assert hint["doc"].startswith("Fail the first run for `key`")
    # `context` is the runner's, not the operator's, to give.
    assert describe(get_task("jobs.samples.slow_with_progress"))["signature"] == "(total=20, delay=0.05)"


def test_the_dashboard_carries_every_tasks_hint(client):
    page = client.get(reverse("jobs:dashboard")).content.decode()
    start = page.index('<script id="task-hints" type="application/json">') + len(
        '<script id="task-hints" type="application/json">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert data["jobs.samples.fails_first_time"]["signature"] == "(key)"
    assert set(data) >= {"jobs.samples.echo", "jobs.samples.noop"}


def test_an_argument_error_sits_next_to_its_field(client):
    url = reverse("jobs:dashboard")
    response = client.post(url, {"task": "jobs.samples.fails_first_time", "args": '["k"]', "kwargs": '{"nope": 1}'})
    form = response.context["form"]
    assert "kwargs" in form.errors and "args" not in form.errors and not form.non_field_errors()
    response = client.post(url, {"task": "jobs.samples.fails_first_time", "args": "[1, 2]", "kwargs": "{}"})
    assert "args" in response.context["form"].errors
    assert argument_field("got an unexpected keyword argument 'x'") == "kwargs"


def test_the_schedule_form_carries_the_hints_and_the_preview_endpoint(client):
    page = client.get(ADD).content.decode()
    assert 'id="task-hints"' in page and f'data-url="{PREVIEW}"' in page and "jobs/forms.js" in page
    assert hints([get_task("jobs.samples.noop")])["jobs.samples.noop"]["signature"] == "()"


@pytest.mark.parametrize("query, expected", [
    ({"interval_seconds": "90"}, None),
    ({"cron": "30 2 * * *", "timezone": "Asia/Tokyo"}, "02:30:00 JST"),
    ({"cron": "99 * * * *"}, "Cannot compute them"),
    ({"cron": "0 4 * * *", "timezone": "Mars/Olympus"}, "Cannot compute them: unknown time zone"),
    ({"interval_seconds": "ten"}, "whole number"),
    ({"interval_seconds": "0"}, "at least one second"),
    ({"interval_seconds": "60", "cron": "* * * * *"}, "Set an interval or a cron expression"),
    ({}, "Set an interval or a cron expression"),
])
def test_the_preview_endpoint_answers_five_times_or_a_sentence(client, query, expected):
    body = client.get(PREVIEW, query).json()
    if expected is None:
        assert len(body["times"]) == 5 and "error" not in body
    elif "error" in body:
        assert expected in body["error"]
    else:
        assert len(body["times"]) == 5 and all(expected in t["local"] for t in body["times"])


def test_the_preview_needs_the_schedule_permission():
    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    assert viewer.get(PREVIEW, {"interval_seconds": "60"}).status_code == 403


def test_a_timing_violation_is_a_sentence_not_a_constraint_name(client):
    response = client.post(ADD, form_data(cron="0 4 * * *"))
    page = response.content.decode()
    assert "Set an interval or a cron expression, not both." in page
    assert "jobs_schedule_one_timing" not in page


def test_the_preview_of_a_one_off_or_a_window(client):
    once = client.get(PREVIEW, {"clocked_at": "2099-01-01T10:00"}).json()
    assert [t["utc"] for t in once["times"]] == ["2099-01-01 10:00:00"]
    window = client.get(PREVIEW, {"interval_seconds": "3600", "starts_at": "2099-01-01T10:00",
                                  "expires_at": "2099-01-01T12:30"}).json()
    assert [t["utc"][11:16] for t in window["times"]] == ["10:00", "11:00", "12:00"]
    assert "passed" in client.get(PREVIEW, {"clocked_at": "2000-01-01T10:00"}).json()["error"]
    assert "after its start" in client.get(PREVIEW, {"interval_seconds": "60", "starts_at": "2099-01-02T00:00",
                                                     "expires_at": "2099-01-01T00:00"}).json()["error"]
    assert "not a date" in client.get(PREVIEW, {"interval_seconds": "60", "starts_at": "soon"}).json()["error"]


def test_a_one_off_schedule_is_added_from_the_form(client):
    from jobs.models import Schedule

    response = client.post(ADD, form_data(interval_seconds="", clocked_at="2099-01-01T10:00",
                                          expires_at="2099-01-02T00:00"))
    assert response.status_code == 302
    schedule = Schedule.objects.get(name="purge")
    assert schedule.next_fire_at.isoformat().startswith("2099-01-01T10:00")
    assert schedule.timing_display.startswith("once at 2099-01-01 10:00")
    assert client.get(reverse("admin:jobs_schedule_changelist"), {"timing": "clocked"}).context[
        "cl"].result_count == 1
