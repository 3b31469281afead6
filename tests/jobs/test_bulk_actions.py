"""Bulk "retry all dead" (with a filter) and "empty queue", each behind a confirmation page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import RunStatus
from jobs.admin import bulk
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.samples import echo, noop
from tests.users import make_operator, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_DEAD = reverse("admin:jobs_jobrun_retry_dead")


@pytest.fixture
def operator():
    client = Client()
    client.force_login(make_operator())
    return client


def dead(task_path="jobs.samples.echo", queue="default", died_ago=60, args=("x",)):
    return JobRun.objects.create(task_path=task_path, status=RunStatus.DEAD, queue=queue, args=list(args),
                                 finished_at=timezone.now() - timedelta(seconds=died_ago))


def test_retry_all_dead_confirms_then_retries_only_the_filtered_never_retried_runs(operator):
    echo_dead = [dead() for _ in range(3)]
    old = dead(died_ago=3 * 86400)
    other_task = dead(task_path="jobs.samples.noop", args=())
    other_queue = dead(queue="topics")
    already = dead()
    JobRun.objects.create(task_path="jobs.samples.echo", status=RunStatus.SUCCEEDED, retry_of=already)

    page = operator.get(RETRY_DEAD, {"task": "jobs.samples.echo", "queue": "default", "hours": "24"})
    assert page.context["count"] == 3
    assert "Yes, retry 3 runs" in page.content.decode()
    assert not JobRun.objects.filter(retry_of__in=echo_dead).exists()  # a GET changes nothing

    response = operator.post(RETRY_DEAD, {"task": "jobs.samples.echo", "queue": "default", "hours": "24"},
                             follow=True)
    assert "Retried 3 dead run(s)." in response.content.decode()
    assert set(JobRun.objects.filter(retry_of__isnull=False).values_list("retry_of", flat=True)) == {
        r.pk for r in echo_dead} | {already.pk}
    for untouched in (old, other_task, other_queue):
        assert not JobRun.objects.filter(retry_of=untouched).exists()
    # Retried runs no longer count: a second confirmation finds nothing of that filter.
    assert operator.get(RETRY_DEAD, {"task": "jobs.samples.echo", "queue": "default", "hours": "24"}
                        ).context["count"] == 0


def test_retry_all_dead_works_in_batches(operator, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_LIMIT", 2)
    for _ in range(3):
        dead()
    response = operator.post(RETRY_DEAD, {}, follow=True)
    assert "Retried 2 dead run(s). 1 more match" in response.content.decode()
    assert JobRun.objects.filter(retry_of__isnull=False).count() == 2


def test_retry_all_dead_needs_the_change_permission():
    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    dead()
    assert viewer.get(RETRY_DEAD).status_code == 403
    assert viewer.post(RETRY_DEAD).status_code == 403
    assert not JobRun.objects.filter(retry_of__isnull=False).exists()


def test_empty_queue_confirms_then_cancels_every_waiting_run_and_clears_redis(operator):
    waiting = [JobRun.objects.get(pk=noop.using(queue_name="topics").enqueue().id) for _ in range(3)]
    elsewhere = JobRun.objects.get(pk=noop.using(queue_name="default").enqueue().id)
    running = JobRun.objects.create(task_path="jobs.samples.noop", status=RunStatus.RUNNING, queue="topics")
    url = reverse("admin:jobs_worker_empty_queue", args=["topics"])
    topics_key = get_rq_queue(waiting[0].rq_queue_name).key
    assert get_redis().llen(topics_key) == 3

    page = operator.get(url)
    assert page.context["count"] == 3 and "Yes, empty topics" in page.content.decode()
    assert get_redis().llen(topics_key) == 3  # a GET changes nothing

    response = operator.post(url, follow=True)
    assert "cancelled 3 waiting run(s)" in response.content.decode()
    assert all(JobRun.objects.get(pk=r.pk).status == RunStatus.CANCELLED for r in waiting)
    assert JobRun.objects.get(pk=running.pk).status == RunStatus.RUNNING
    assert JobRun.objects.get(pk=elsewhere.pk).status == RunStatus.QUEUED
    assert get_redis().llen(topics_key) == 0


def test_empty_queue_needs_operate_queues_and_a_known_queue(operator):
    noop.using(queue_name="topics").enqueue()
    viewer = Client()
    viewer.force_login(make_staff("viewer", perms=["jobs.view_jobrun", "jobs.view_worker", "jobs.change_jobrun"]))
    url = reverse("admin:jobs_worker_empty_queue", args=["topics"])
    assert viewer.post(url).status_code == 403
    assert JobRun.objects.filter(status=RunStatus.QUEUED).count() == 1
    assert operator.get(reverse("admin:jobs_worker_empty_queue", args=["nowhere"])).status_code == 404


def test_the_list_pages_offer_the_auto_refresh_toggle_and_the_bulk_links(operator):
    runs = operator.get(reverse("admin:jobs_jobrun_changelist"), {"task": "jobs.samples.echo"}).content.decode()
    assert 'id="autorefresh"' in runs and "jobs/autorefresh.js" in runs
    assert f'{RETRY_DEAD}?task=jobs.samples.echo' in runs
    for name in ("admin:jobs_worker_queues", "admin:jobs_taskpolicy_tasks", "admin:jobs_schedule_changelist",
                 "admin:jobs_worker_changelist"):
        assert 'id="autorefresh"' in operator.get(reverse(name)).content.decode(), name
    queues = operator.get(reverse("admin:jobs_worker_queues")).content.decode()
    assert reverse("admin:jobs_worker_empty_queue", args=["topics"]) in queues
