"""A run's own Cancel and Retry buttons (admin run page and dashboard): POST, CSRF, permissions."""

import pytest
from django.test import Client
from django.urls import reverse

from jobs import RunStatus
from jobs.models import JobRun
from jobs.samples import echo
from tests.users import make_operator, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator():
    client = Client()
    client.force_login(make_operator())
    return client


def test_buttons_show_only_what_the_run_allows(operator):
    waiting = JobRun.objects.get(pk=echo.enqueue("a").id)
    page = operator.get(reverse("admin:jobs_jobrun_change", args=[waiting.pk])).content.decode()
    assert 'id="run-cancel"' in page and 'id="run-retry"' not in page and "run-retry-edit" not in page

    JobRun.objects.filter(pk=waiting.pk).update(status=RunStatus.DEAD)
    page = operator.get(reverse("admin:jobs_jobrun_change", args=[waiting.pk])).content.decode()
    assert 'id="run-cancel"' not in page and 'id="run-retry"' in page and 'id="run-retry-edit"' in page

    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    page = viewer.get(reverse("admin:jobs_jobrun_change", args=[waiting.pk])).content.decode()
    assert "run-retry" not in page and "run-cancel" not in page


def test_cancel_and_retry_are_posts_by_operators_only(operator):
    run = JobRun.objects.get(pk=echo.enqueue("b").id)
    cancel = reverse("admin:jobs_jobrun_cancel", args=[run.pk])
    assert operator.get(cancel).status_code == 405
    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    assert viewer.post(cancel).status_code == 403
    run.refresh_from_db()
    assert run.status != RunStatus.CANCELLED

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_operator("strict"))
    assert strict.post(cancel).status_code == 403  # no CSRF token

    response = operator.post(cancel, {"next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED

    retry = reverse("admin:jobs_jobrun_retry", args=[run.pk])
    response = operator.post(retry, {"next": "https://evil.example/"})
    new = JobRun.objects.get(retry_of=run)
    assert response["Location"] == reverse("admin:jobs_jobrun_change", args=[run.pk])  # not off-site
    assert (new.task_path, new.args) == ("jobs.samples.echo", ["b"])
    response = operator.post(retry)
    assert JobRun.objects.filter(retry_of=run).count() == 2
    assert response["Location"] == reverse("admin:jobs_jobrun_change", args=[JobRun.objects.filter(
        retry_of=run).order_by("-enqueued_at")[0].pk])

    # A second cancel of a finished run changes nothing and says so.
    response = operator.post(cancel, follow=True)
    assert "had already finished" in response.content.decode()


def test_a_waiting_run_cannot_be_retried(operator):
    run = JobRun.objects.get(pk=echo.enqueue("c").id)
    operator.post(reverse("admin:jobs_jobrun_retry", args=[run.pk]))
    assert not JobRun.objects.filter(retry_of=run).exists()


def test_the_dashboard_lists_carry_the_same_buttons(operator):
    running = JobRun.objects.get(pk=echo.enqueue("d").id)
    JobRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING)
    dead = JobRun.objects.get(pk=echo.enqueue("e").id)
    JobRun.objects.filter(pk=dead.pk).update(status=RunStatus.DEAD)
    page = operator.get(reverse("jobs:dashboard")).content.decode()
    assert reverse("admin:jobs_jobrun_cancel", args=[running.pk]) in page
    assert reverse("admin:jobs_jobrun_retry", args=[dead.pk]) in page
    assert reverse("admin:jobs_jobrun_retry_edit", args=[dead.pk]) in page
    assert reverse("admin:jobs_jobrun_retry", args=[running.pk]) not in page
