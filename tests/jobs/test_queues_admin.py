"""Operator pages in admin: Queues (depth, load, pause and resume) and Workers, and the jobs app index."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobAttempt, JobRun, Worker
from jobs.pausing import pause_queue, paused_queues
from jobs.queues import lane_names
from jobs.samples import noop
from tests.jobs.operations_cast import (  # noqa: F401 - operator: fixture
    QUEUES_URL, TASKS_URL, WORKERS_URL, jobs_command, lane_row, make_run, make_worker, operator, staff_client,
)


pytestmark = pytest.mark.django_db(transaction=True)


# --- Queues ------------------------------------------------------------------------------------


def test_the_queues_page_shows_depth_age_load_listeners_and_pauses(operator, django_assert_max_num_queries):
    first = noop.using(queue_name="topics").enqueue()
    noop.using(queue_name="topics").enqueue()
    JobRun.objects.filter(pk=first.id).update(enqueued_at=timezone.now() - timedelta(minutes=10, seconds=3))
    running = make_run(status=RunStatus.RUNNING, wait=1)
    make_run(status=RunStatus.DEAD, enqueued_ago=7200, wait=1, took=1)
    make_run(status=RunStatus.DEAD, enqueued_ago=3 * 86400, wait=1, took=1)  # died before the window
    failed = make_run(status=RunStatus.SCHEDULED, attempt=1)
    JobAttempt.objects.create(run=failed, number=1, started_at=timezone.now(), finished_at=timezone.now(),
                              outcome=AttemptOutcome.FAILED)
    make_worker("w-alive", lane_names("topics"), current_run=running)
    make_worker("w-dead", lane_names("topics"), heartbeat_ago=3600)
    pause_queue("default")

    with django_assert_max_num_queries(10):
        response = operator.get(QUEUES_URL)

    assert response.status_code == 200
    group, normal = lane_row(response, "topics", "normal")
    assert not group["paused"]
    assert normal["depth"] == 2 and 600 <= normal["oldest"] < 660
    assert "10m 0" in response.content.decode()
    assert (normal["running"], normal["dead"], normal["failed"]) == (1, 1, 1)
    assert normal["workers"] == ["w-alive"]
    _, high = lane_row(response, "topics", "high")
    assert (high["depth"], high["oldest"], high["running"]) == (0, None, 0)
    default, _ = lane_row(response, "default", "normal")
    assert default["paused"]
    assert "Paused queues: <strong>default</strong>" in response.content.decode()


def test_pause_and_resume_from_the_queues_page(operator):
    response = operator.post(QUEUES_URL, {"queue": "topics", "action": "pause"})
    assert response.status_code == 302 and paused_queues() == {"topics"}
    page = operator.get(QUEUES_URL)
    assert lane_row(page, "topics", "low")[0]["paused"]
    assert 'name="action" value="resume"' in page.content.decode()

    response = operator.post(QUEUES_URL, {"queue": "topics", "action": "resume"}, follow=True)
    assert paused_queues() == set()
    assert "Resumed queue topics." in [str(m) for m in get_messages(response.wsgi_request)]

    response = operator.post(QUEUES_URL, {"queue": "nowhere", "action": "pause"}, follow=True)
    assert response.status_code == 200 and paused_queues() == set()
    assert any("unknown queue 'nowhere'" in str(m) for m in get_messages(response.wsgi_request))


def test_the_queues_page_and_the_run_list_survive_a_redis_outage(operator, services):
    make_run(status=RunStatus.QUEUED)
    services.stop_redis()
    try:
        page = operator.get(QUEUES_URL)
        assert page.status_code == 200 and page.context["redis_error"]
        _, normal = lane_row(page, "topics", "normal")
        assert normal["depth"] == "?" and normal["oldest"] != "-"  # the ledger still answers
        response = operator.post(QUEUES_URL, {"queue": "topics", "action": "pause"}, follow=True)
        assert any("Redis is unavailable" in str(m) for m in get_messages(response.wsgi_request))
        assert jobs_command("list").startswith("paused queues: unknown")
    finally:
        services.start_redis()


def test_pause_and_resume_from_the_cli_show_in_the_run_list():
    assert jobs_command("pause", "topics").strip() == "topics: paused"
    assert jobs_command("pause", "topics").strip() == "topics: already paused"
    assert jobs_command("list").splitlines()[0] == "paused queues: topics"
    assert jobs_command("resume", "topics").strip() == "topics: resumed"
    assert "paused queues" not in jobs_command("list")
    with pytest.raises(CommandError, match="unknown queue 'nowhere'"):
        jobs_command("pause", "nowhere")


def test_pages_need_staff_and_the_right_permission():
    nobody = staff_client()
    for url in (QUEUES_URL, TASKS_URL, WORKERS_URL):
        assert nobody.get(url).status_code == 403
    assert nobody.post(QUEUES_URL, {"queue": "topics", "action": "pause"}).status_code == 403

    viewer = staff_client("view_worker")
    page = viewer.get(QUEUES_URL)
    assert page.status_code == 200 and 'value="pause"' not in page.content.decode()
    assert viewer.get(WORKERS_URL).status_code == 200
    assert viewer.get(TASKS_URL).status_code == 403
    assert viewer.post(QUEUES_URL, {"queue": "topics", "action": "pause"}).status_code == 403
    assert paused_queues() == set()

    # Editing worker rows is not operating queues: pause and resume need jobs.operate_queues.
    editor = staff_client("view_worker", "change_worker")
    assert 'value="pause"' not in editor.get(QUEUES_URL).content.decode()
    assert editor.post(QUEUES_URL, {"queue": "topics", "action": "pause"}).status_code == 403
    assert paused_queues() == set()

    queue_operator = staff_client("view_worker", "operate_queues")
    assert 'value="pause"' in queue_operator.get(QUEUES_URL).content.decode()
    assert queue_operator.post(QUEUES_URL, {"queue": "topics", "action": "pause"}).status_code == 302
    assert paused_queues() == {"topics"}
    assert queue_operator.post(QUEUES_URL, {"queue": "topics", "action": "resume"}).status_code == 302
    assert paused_queues() == set()
    assert staff_client("view_taskpolicy").get(TASKS_URL).status_code == 200

    outsider = Client()
    assert outsider.get(QUEUES_URL).status_code == 302  # to the admin login


# --- Workers -----------------------------------------------------------------------------------


def test_the_workers_page_shows_state_current_run_and_heartbeat_read_only(operator):
    run = make_run(task_path="jobs.samples.sleeps", status=RunStatus.RUNNING, wait=1)
    alive = make_worker("w-alive", lane_names("topics") + ["default.high"], heartbeat_ago=1, current_run=run)
    make_worker("w-dead", lane_names("topics"), heartbeat_ago=3600)
    make_worker("w-stopped", lane_names("topics"), heartbeat_ago=60, stopped=True)

    page = operator.get(WORKERS_URL)
    assert page.status_code == 200
    rows = {r.name: r for r in page.context["cl"].result_list}
    admin = page.context["cl"].model_admin
    assert {name: admin.state(w) for name, w in rows.items()} == {
        "w-alive": "alive", "w-dead": "dead", "w-stopped": "stopped"}
    assert admin.listens_to(alive) == "topics, default.high"
    assert "jobs.samples.sleeps" in str(admin.current(alive))
    assert admin.heartbeat(rows["w-dead"]) == "1h 00m ago"
    assert reverse("admin:jobs_worker_queues") in page.content.decode()

    for state, names in (("alive", ["w-alive"]), ("dead", ["w-dead"]), ("stopped", ["w-stopped"])):
        filtered = operator.get(WORKERS_URL, {"state": state})
        assert [w.name for w in filtered.context["cl"].result_list] == names

    assert operator.get(reverse("admin:jobs_worker_change", args=[alive.pk])).status_code == 200
    assert operator.get(reverse("admin:jobs_worker_add")).status_code == 403
    assert operator.post(reverse("admin:jobs_worker_delete", args=[alive.pk])).status_code == 403
    assert Worker.objects.count() == 3


def test_the_jobs_app_index_links_the_operator_pages(operator):
    page = operator.get(reverse("admin:app_list", args=["jobs"])).content.decode()
    for url in (QUEUES_URL, TASKS_URL, WORKERS_URL):
        assert f'href="{url}"' in page
    # django-rq's pages are not mounted: our Queues, Workers and Runs pages read the ledger.
    assert "/admin/rq/" not in page and "django_rq" not in page
    for url in ("/admin/rq/", "/admin/django_rq/", "/admin/django_rq/dashboard/"):
        assert operator.get(url).status_code == 404, url
