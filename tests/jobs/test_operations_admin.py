"""Operator pages in admin (Queues, Workers, Tasks, task policies) and pausing queues."""

import signal
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobAttempt, JobRun, TaskPolicy, TaskPolicyChange, Worker
from jobs.pausing import pause_queue, paused_queues, resume_queue
from jobs.queues import get_redis, get_rq_queue, lane_names
from jobs.samples import noop, returns_42

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES_URL = reverse("admin:jobs_worker_queues")
TASKS_URL = reverse("admin:jobs_taskpolicy_tasks")
WORKERS_URL = reverse("admin:jobs_worker_changelist")


# --- the cast and the data ---------------------------------------------------------------------


@pytest.fixture
def operator():
    user = User.objects.create_superuser("operator", "op@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def staff_client(*perms):
    user = User.objects.create_user(f"staff{User.objects.count()}", password="pw", is_staff=True)
    for codename in perms:
        if codename == "operate_queues":
            # Made by a data migration, which a transactional test's flush removes (post_migrate
            # makes only the models' own permissions again).
            Permission.objects.get_or_create(
                codename=codename, content_type=ContentType.objects.get_for_model(JobRun),
                defaults={"name": "Can operate queues (empty, requeue, delete, stop, pause, resume)"})
        user.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename=codename))
    client = Client()
    client.force_login(user)
    return client


def make_run(task_path="jobs.samples.echo", status=RunStatus.SUCCEEDED, queue="topics", lane="normal",
             enqueued_ago=60.0, wait=None, took=None, **fields):
    """A ledger row with its times given as seconds: enqueued `enqueued_ago` s ago, waited, ran."""
    now = timezone.now()
    enqueued_at = now - timedelta(seconds=enqueued_ago)
    started_at = enqueued_at + timedelta(seconds=wait) if wait is not None else None
    finished_at = started_at + timedelta(seconds=took) if took is not None else None
    return JobRun.objects.create(task_path=task_path, status=status, queue=queue, lane=lane,
                                 enqueued_at=enqueued_at, started_at=started_at, finished_at=finished_at, **fields)


def make_worker(name, queues, heartbeat_ago=0.0, stopped=False, current_run=None):
    now = timezone.now()
    return Worker.objects.create(
        name=name, host="box", pid=123, queues=queues, heartbeat_at=now - timedelta(seconds=heartbeat_ago),
        stopped_at=now if stopped else None, current_run=current_run, jobs_done=7, jobs_failed=2,
    )


def lane_row(response, queue, lane):
    group = next(q for q in response.context["queues"] if q["name"] == queue)
    return group, next(row for row in group["lanes"] if row["lane"] == lane)


def jobs_command(*args):
    out = StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


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


# --- Tasks -------------------------------------------------------------------------------------


def test_the_tasks_page_computes_statistics_in_postgres(operator, django_assert_max_num_queries):
    for wait, took in ((1, 10), (2, 20), (3, 30)):
        make_run(enqueued_ago=1800, wait=wait, took=took)
    make_run(status=RunStatus.DEAD, enqueued_ago=1800)  # never started: no wait or run time
    make_run(status=RunStatus.QUEUED, enqueued_ago=7200)  # another hour of the chart
    make_run(enqueued_ago=2 * 86400, wait=100, took=100)  # outside 24 h, inside 7 d
    TaskPolicy.objects.create(task_path="jobs.samples.echo", max_attempts=4)

    with django_assert_max_num_queries(8):
        page = operator.get(TASKS_URL, {"window": "24h"})
    assert page.status_code == 200
    tasks = {t["path"]: t for t in page.context["tasks"]}
    assert "jobs.samples.noop" in tasks and tasks["jobs.samples.noop"]["stats"] is None
    echo = tasks["jobs.samples.echo"]
    assert echo["overrides"] == {"max_attempts": 4}
    stats = echo["stats"]
    assert (stats["runs"], stats["succeeded"], stats["dead"], stats["finished"]) == (5, 3, 1, 4)
    assert stats["success_rate"] == "75.0%" and stats["throughput"] == f"{4 / 24:.1f}"
    assert stats["wait_p50"] == pytest.approx(2.0) and stats["wait_p95"] == pytest.approx(2.9)
    assert stats["run_p50"] == pytest.approx(20.0) and stats["run_p95"] == pytest.approx(29.0)
    assert "20s / 29s" in page.content.decode()
    bars = stats["chart"]["bars"]
    assert len(bars) == 24 and sum(b["count"] for b in bars) == 5 and stats["chart"]["peak"] == 4
    assert "<svg" in page.content.decode()

    week = operator.get(TASKS_URL, {"window": "7d"})
    week_stats = next(t for t in week.context["tasks"] if t["path"] == "jobs.samples.echo")["stats"]
    assert week_stats["runs"] == 6 and len(week_stats["chart"]["bars"]) == 168
    assert operator.get(TASKS_URL, {"window": "1h"}).context["tasks"][0] is not None
    assert operator.get(TASKS_URL, {"window": "bogus"}).context["window"] == "24h"


# --- task policies and their audit ----------------------------------------------------------------


def policy_form(**values):
    data = {"task_path": "jobs.samples.echo", "max_attempts": "", "backoff": "", "backoff_base": "",
            "backoff_cap": "", "soft_time_limit": "", "hard_time_limit": "", "priority": ""}
    data.update({k: str(v) for k, v in values.items()})
    if data.get("paused") in ("False", ""):
        data.pop("paused")
    return data


def test_the_policy_admin_records_who_changed_what_from_what_to_what(operator):
    add = operator.post(reverse("admin:jobs_taskpolicy_add"), policy_form(max_attempts=5, priority=10))
    assert add.status_code == 302
    policy = TaskPolicy.objects.get(task_path="jobs.samples.echo")
    assert policy.updated_by == operator.user and policy.max_attempts == 5
    created = TaskPolicyChange.objects.get()
    assert created.changes == {"max_attempts": [None, 5], "priority": [None, 10]}
    assert created.changed_by == operator.user

    change_url = reverse("admin:jobs_taskpolicy_change", args=[policy.pk])
    form = policy_form(max_attempts=3, priority=10, paused="on", backoff="fixed")
    form.pop("task_path")  # read-only once the policy exists
    assert operator.post(change_url, form).status_code == 302
    latest = TaskPolicyChange.objects.order_by("-changed_at", "-pk").first()
    assert latest.changes == {"max_attempts": [5, 3], "backoff": ["", "fixed"], "paused": [False, True]}

    assert operator.post(change_url, form).status_code == 302  # nothing changed, nothing recorded
    assert TaskPolicyChange.objects.count() == 2

    page = operator.get(change_url)
    assert "max_attempts: 5 → 3" in page.content.decode()
    log = operator.get(reverse("admin:jobs_taskpolicychange_changelist"))
    assert log.status_code == 200 and "paused: False → True" in log.content.decode()
    assert operator.get(reverse("admin:jobs_taskpolicychange_add")).status_code == 403
    assert operator.post(reverse("admin:jobs_taskpolicychange_delete", args=[latest.pk])).status_code == 403

    operator.post(reverse("admin:jobs_taskpolicy_delete", args=[policy.pk]), {"post": "yes"})
    assert not TaskPolicy.objects.exists()
    removal = TaskPolicyChange.objects.order_by("-changed_at", "-pk").first()
    assert removal.changes == {"max_attempts": [3, None], "backoff": ["fixed", ""], "priority": [10, None],
                               "paused": [True, False]}


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"task_path": "jobs.samples.nope"}, "task_path", "Select a valid choice"),
        ({"soft_time_limit": 10, "hard_time_limit": 5}, "soft_time_limit", "must be shorter"),
        # The code's hard limit (1 s) still applies when only the soft one is overridden.
        ({"task_path": "jobs.samples.overruns_hard_limit", "soft_time_limit": 2}, "soft_time_limit",
         "must be shorter"),
        ({"priority": 101}, "priority", "less than or equal to 100"),
        ({"priority": -101}, "priority", "greater than or equal to -100"),
        ({"max_attempts": 0}, "max_attempts", "greater than or equal to 1"),
        ({"hard_time_limit": -1}, "hard_time_limit", "positive"),
        ({"backoff_cap": "soon"}, "backoff_cap", "Enter a number"),
    ],
)
def test_invalid_policy_input_is_a_form_error(operator, values, field, message):
    response = operator.post(reverse("admin:jobs_taskpolicy_add"), policy_form(**values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field])
    assert not TaskPolicy.objects.exists() and not TaskPolicyChange.objects.exists()


def test_the_jobs_app_index_links_the_operator_pages(operator):
    page = operator.get(reverse("admin:app_list", args=["jobs"])).content.decode()
    for url in (QUEUES_URL, TASKS_URL, WORKERS_URL):
        assert f'href="{url}"' in page
    # django-rq's pages are not mounted: our Queues, Workers and Runs pages read the ledger.
    assert "/admin/rq/" not in page and "django_rq" not in page
    for url in ("/admin/rq/", "/admin/django_rq/", "/admin/django_rq/dashboard/"):
        assert operator.get(url).status_code == 404, url


# --- workers and paused queues ------------------------------------------------------------------


def test_a_paused_queue_keeps_its_runs_until_resumed(work):
    pause_queue("topics")
    paused_run = noop.using(queue_name="topics").enqueue()
    other_run = returns_42.enqueue()
    work()
    assert JobRun.objects.get(pk=other_run.id).status == RunStatus.SUCCEEDED
    assert JobRun.objects.get(pk=paused_run.id).status == RunStatus.QUEUED
    assert get_rq_queue("topics.normal").count == 1

    resume_queue("topics")
    work()
    assert JobRun.objects.get(pk=paused_run.id).status == RunStatus.SUCCEEDED


def run_blocking_worker(queues, max_idle_time=20):
    """Run a non-burst in-process EngramWorker for one job (or until idle); return it."""
    from jobs.worker import EngramWorker

    worker = EngramWorker([get_rq_queue(name) for name in queues], connection=get_redis())
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        worker.work(burst=False, max_jobs=1, max_idle_time=max_idle_time, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    return worker


def in_thread(action):
    """Run `action` in a thread with its own DB connection; return the thread (started)."""
    def target():
        try:
            action()
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def wait_until(condition, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


@pytest.mark.parametrize("also_listens_to", [[], ["default"]], ids=["only-the-paused-queue", "and-another"])
def test_a_blocking_worker_takes_a_resumed_queue_within_seconds(also_listens_to):
    pause_queue("topics")
    run_id = noop.using(queue_name="topics").enqueue().id
    seen = {}

    def resume_later():
        time.sleep(2.5)  # a few of the worker's blocking slices
        seen["status"] = JobRun.objects.get(pk=run_id).status
        seen["resumed_at"] = timezone.now()
        resume_queue("topics")

    thread = in_thread(resume_later)
    lanes = [name for queue in ["topics", *also_listens_to] for name in lane_names(queue)]
    run_blocking_worker(lanes)
    thread.join(5)

    assert seen["status"] == RunStatus.QUEUED  # untouched while paused
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.started_at - seen["resumed_at"]).total_seconds() < 4


def test_a_pause_reaches_a_worker_already_blocked_on_the_queue():
    runs = {}

    def pause_then_enqueue():
        assert wait_until(lambda: Worker.objects.alive().exists(), 10)
        pause_queue("topics")
        time.sleep(4)  # longer than one blocking slice plus the paused set's cache
        runs["paused"] = noop.using(queue_name="topics").enqueue().id
        runs["other"] = returns_42.enqueue().id

    thread = in_thread(pause_then_enqueue)
    run_blocking_worker(lane_names("topics") + lane_names("default"))
    thread.join(5)

    assert JobRun.objects.get(pk=runs["other"]).status == RunStatus.SUCCEEDED
    assert JobRun.objects.get(pk=runs["paused"]).status == RunStatus.QUEUED
