"""The run ledger in admin: pages, filters, search, read-only history and every action."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun
from jobs.paginator import EstimatedCountPaginator
from jobs.retention import purge_finished_runs
from jobs.samples import echo, fails_n_times, returns_42, slow_with_progress, spawns_children
from jobs.tasks import purge_old_runs
from tests.users import make_operator, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:jobs_jobrun_changelist"


@pytest.fixture
def operator_client():
    client = Client()
    client.force_login(make_operator())
    return client


def change_url(run_id):
    return reverse("admin:jobs_jobrun_change", args=[run_id])


def test_the_changelist_renders_with_every_filter(operator_client, work):
    echo.enqueue("needle-in-args")
    fails_n_times.enqueue("admin", 5)
    work()
    url = reverse(CHANGELIST)
    for query in ["", "?status=succeeded", "?task=jobs.samples.echo", "?queue=default", "?trigger=api",
                  "?enqueued_at__gte=2000-01-01+00:00:00%2B00:00", "?q=needle-in-args", "?q=jobs.samples.echo"]:
        response = operator_client.get(url + query)
        assert response.status_code == 200, query
    found = operator_client.get(url + "?q=needle-in-args").context["cl"].result_list
    assert [r.args for r in found] == [["needle-in-args"]]
    response = operator_client.get(url + "?status=dead")
    assert response.context["cl"].result_count == 1


def test_search_by_run_id_finds_exactly_that_run(operator_client):
    run_id = returns_42.enqueue().id
    returns_42.enqueue()
    response = operator_client.get(reverse(CHANGELIST) + f"?q={run_id}")
    assert [r.pk for r in response.context["cl"].result_list] == [JobRun.objects.get(pk=run_id).pk]


def test_the_change_view_is_read_only_history_with_attempts_and_chain(operator_client, work):
    parent_id = spawns_children.enqueue(count=1).id
    failing_id = fails_n_times.enqueue("timeline", 1).id
    work()
    page = operator_client.get(change_url(parent_id)).content.decode()
    child = JobRun.objects.get(parent_id=parent_id)
    assert str(child.pk) in page and "Children" in page
    page = operator_client.get(change_url(failing_id)).content.decode()
    assert "planned failure 1 of 1" in page and "Attempts" in page
    assert 'name="_save"' not in page  # nothing to edit
    response = operator_client.post(change_url(failing_id), {"status": "dead"})
    assert response.status_code == 403
    assert JobRun.objects.get(pk=failing_id).status == RunStatus.SUCCEEDED


def test_retry_action_touches_only_finished_runs(operator_client, work):
    done = returns_42.enqueue().id
    work()
    waiting = returns_42.enqueue().id
    response = operator_client.post(reverse(CHANGELIST), {"action": "retry_runs", "_selected_action": [done, waiting]},
                                    follow=True)
    assert "Retried 1 run(s); skipped 1 unfinished." in response.content.decode()
    retry = JobRun.objects.get(retry_of_id=done)
    assert retry.trigger == "retry" and retry.enqueued_by.username == "operator"


def test_retry_with_edited_args_validates_against_the_signature(operator_client, work):
    run_id = fails_n_times.enqueue("edit", 0).id
    work()
    url = reverse("admin:jobs_jobrun_retry_edit", args=[run_id])
    assert operator_client.get(url).status_code == 200
    bad_json = operator_client.post(url, {"args": "[1,", "kwargs": "{}"})
    assert bad_json.status_code == 200 and "Not valid JSON" in bad_json.content.decode()
    bad_args = operator_client.post(url, {"args": json.dumps(["a", 1, 2, 3]), "kwargs": "{}"})
    assert bad_args.status_code == 200 and "arguments do not match" in bad_args.content.decode()
    good = operator_client.post(url, {"args": json.dumps(["edited", 0]), "kwargs": "{}"})
    assert good.status_code == 302
    assert JobRun.objects.get(retry_of_id=run_id).args == ["edited", 0]


def test_cancel_action_counts_what_it_changed(operator_client):
    queued = returns_42.enqueue().id
    running = slow_with_progress.enqueue().id
    JobRun.claim(running, "w", "h", 1)
    response = operator_client.post(reverse(CHANGELIST), {"action": "cancel_runs",
                                                           "_selected_action": [queued, running]}, follow=True)
    assert "Cancelled 1 run(s); asked 1 running run(s) to stop." in response.content.decode()
    assert JobRun.objects.get(pk=queued).status == RunStatus.CANCELLED
    assert JobRun.objects.get(pk=running).cancel_requested_at is not None


def test_purge_deletes_only_old_finished_runs(operator_client, work):
    old = returns_42.enqueue().id
    work()
    JobRun.objects.filter(pk=old).update(finished_at=timezone.now() - timedelta(days=40))
    recent = returns_42.enqueue().id
    work()
    waiting = returns_42.enqueue().id
    JobRun.objects.filter(pk=waiting).update(enqueued_at=timezone.now() - timedelta(days=90))
    response = operator_client.post(reverse("admin:jobs_jobrun_purge"), {"days": 30}, follow=True)
    assert "Purged 1 finished run(s)" in response.content.decode()
    assert set(JobRun.objects.values_list("pk", flat=True)) == {JobRun.objects.get(pk=recent).pk,
                                                               JobRun.objects.get(pk=waiting).pk}


def test_the_retention_task_uses_its_setting(settings, work):
    old = returns_42.enqueue().id
    work()
    JobRun.objects.filter(pk=old).update(finished_at=timezone.now() - timedelta(days=10))
    settings.JOBS_RETENTION_DAYS = 0
    assert purge_old_runs.call() == {"purged": 0, "retention_days": 0}
    settings.JOBS_RETENTION_DAYS = 7
    assert purge_old_runs.call() == {"purged": 1, "retention_days": 7}
    with pytest.raises(ValueError):
        purge_finished_runs(0)


def test_staff_without_the_model_permission_gets_403():
    client = Client()
    client.force_login(make_staff())
    run_id = returns_42.enqueue().id
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(change_url(run_id)).status_code == 403
    assert client.get(reverse("admin:jobs_jobrun_purge")).status_code == 403


def test_a_viewer_sees_runs_but_cannot_act():
    client = Client()
    client.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    run_id = returns_42.enqueue().id
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(change_url(run_id)).status_code == 200
    assert client.get(reverse("admin:jobs_jobrun_retry_edit", args=[run_id])).status_code == 403
    client.post(reverse(CHANGELIST), {"action": "cancel_runs", "_selected_action": [run_id]})
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED


def test_the_paginator_estimates_big_counts_and_counts_small_ones_exactly():
    for _ in range(5):
        returns_42.enqueue()
    assert EstimatedCountPaginator(JobRun.objects.all(), 50).count == 5
