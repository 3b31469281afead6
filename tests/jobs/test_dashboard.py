"""The staff dashboard and run pages (server side; the live parts are tested in a browser)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import JobRun
from jobs.samples import always_fails, returns_42
from tests.users import make_operator, make_outsider, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator():
    client = Client()
    client.force_login(make_operator())
    return client


def test_the_dashboard_shows_running_runs_failures_and_queue_depths(operator, work):
    failing = always_fails.enqueue("boom").id
    work()
    JobRun.objects.filter(pk=failing).update(status="dead")
    running = returns_42.enqueue().id
    JobRun.claim(running, "w", "h", 1)
    returns_42.enqueue()
    page = operator.get(reverse("jobs:dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-run="{running}"' in html
    assert "builtins.ValueError" in html and "boom" in html
    # Two RQ jobs wait: the queued run's and the one claimed here directly (no worker popped it).
    assert page.context["queues"]["default.normal"] == 2


def test_enqueue_from_the_dashboard_validates_json_and_signature(operator):
    url = reverse("jobs:dashboard")
    bad_json = operator.post(url, {"task": "jobs.samples.echo", "args": "[1,", "kwargs": "{}"})
    assert bad_json.status_code == 200 and "Not valid JSON" in bad_json.content.decode()
    bad_args = operator.post(url, {"task": "jobs.samples.returns_42", "args": "[1]", "kwargs": "{}"})
    assert bad_args.status_code == 200 and "arguments do not match" in bad_args.content.decode()
    unknown = operator.post(url, {"task": "jobs.samples.nope", "args": "[]", "kwargs": "{}"})
    assert unknown.status_code == 200 and "Select a valid choice" in unknown.content.decode()
    good = operator.post(url, {"task": "jobs.samples.slow_with_progress", "args": "[]",
                               "kwargs": json.dumps({"total": 3})})
    run = JobRun.objects.get(task_path="jobs.samples.slow_with_progress")
    assert good.status_code == 302 and good["Location"] == reverse("jobs:run", args=[run.pk])
    assert run.trigger == "user" and run.enqueued_by.username == "operator" and run.kwargs == {"total": 3}


def test_the_run_page_shows_the_result_or_the_error(operator, work):
    ok = returns_42.enqueue().id
    bad = always_fails.enqueue("kaput").id
    work()
    assert "42" in operator.get(reverse("jobs:run", args=[ok])).content.decode()
    page = operator.get(reverse("jobs:run", args=[bad])).content.decode()
    assert "kaput" in page and "builtins.ValueError" in page


def test_only_staff_with_the_view_permission_get_in():
    run_id = returns_42.enqueue().id
    anonymous = Client()
    assert anonymous.get(reverse("jobs:dashboard")).status_code == 302
    outsider = Client()
    outsider.force_login(make_outsider())
    assert outsider.get(reverse("jobs:dashboard")).status_code == 403
    staff = Client()
    staff.force_login(make_staff())
    assert staff.get(reverse("jobs:run", args=[run_id])).status_code == 403
    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    assert viewer.get(reverse("jobs:dashboard")).status_code == 200
    assert 'id="enqueue"' not in viewer.get(reverse("jobs:dashboard")).content.decode()
    assert viewer.post(reverse("jobs:dashboard"), {"task": "jobs.samples.noop"}).status_code == 403
