"""The operator pages' figures (jobs/stats.py) agree with direct queries on the ledger."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import AttemptOutcome, RunStatus
from jobs.models import JobAttempt, JobRun
from jobs.stats import dashboard_series, queue_overview, task_statistics

pytestmark = pytest.mark.django_db

TASK = "jobs.samples.echo"


def make_run(status, enqueued_ago, wait=None, took=None, queue="topics", lane="normal", failed_attempts=0):
    now = timezone.now()
    enqueued_at = now - timedelta(seconds=enqueued_ago)
    started_at = enqueued_at + timedelta(seconds=wait) if wait is not None else None
    finished_at = started_at + timedelta(seconds=took) if took is not None else None
    if status == RunStatus.CANCELLED and finished_at is None:
        finished_at = enqueued_at + timedelta(seconds=1)
    run = JobRun.objects.create(task_path=TASK, status=status, queue=queue, lane=lane, enqueued_at=enqueued_at,
                                started_at=started_at, finished_at=finished_at, attempt=failed_attempts)
    for number in range(1, failed_attempts + 1):
        at = (started_at or enqueued_at) + timedelta(seconds=number)
        JobAttempt.objects.create(run=run, number=number, started_at=at, finished_at=at,
                                  outcome=AttemptOutcome.FAILED)
    return run


@pytest.fixture
def ledger():
    """A mixed ledger: successes, deaths after several attempts, cancellations, waiting runs."""
    for i in range(7):
        make_run(RunStatus.SUCCEEDED, 1800 + i * 60, wait=2, took=5)
    make_run(RunStatus.SUCCEEDED, 900, wait=1, took=1, failed_attempts=2)  # failed twice, then succeeded
    for i in range(3):
        make_run(RunStatus.DEAD, 1200 + i, wait=1, took=3, failed_attempts=3)  # three attempts each
    for i in range(2):
        make_run(RunStatus.CANCELLED, 600 + i)
    for i in range(4):
        make_run(RunStatus.QUEUED, 300 + i * 60)
    make_run(RunStatus.RUNNING, 120, wait=60)
    make_run(RunStatus.SUCCEEDED, 3 * 86400, wait=1, took=1)  # outside 24 h


def scalar(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_each_task_figure_equals_a_direct_ledger_query(ledger):
    stats = task_statistics("24h")[TASK]
    window = "task_path = %s AND enqueued_at >= now() - interval '24 hours'"
    succeeded = scalar(f"SELECT count(*) FROM jobs_jobrun WHERE {window} AND status = 'succeeded'", TASK)
    dead = scalar(f"SELECT count(*) FROM jobs_jobrun WHERE {window} AND status = 'dead'", TASK)
    cancelled = scalar(f"SELECT count(*) FROM jobs_jobrun WHERE {window} AND status = 'cancelled'", TASK)
    finished = scalar(f"SELECT count(*) FROM jobs_jobrun WHERE {window} "
                      "AND status IN ('succeeded', 'dead', 'cancelled')", TASK)
    runs = scalar(f"SELECT count(*) FROM jobs_jobrun WHERE {window}", TASK)
    assert (succeeded, dead, cancelled, finished, runs) == (8, 3, 2, 13, 18)  # the ledger as built
    assert (stats["succeeded"], stats["dead"], stats["cancelled"], stats["finished"], stats["runs"]) == (
        succeeded, dead, cancelled, finished, runs)
    # Cancelled runs count as finished: 8 / 13, not 8 / 11.
    assert stats["success"] == pytest.approx(succeeded / finished)
    assert stats["success_rate"] == f"{100 * succeeded / finished:.1f}%" == "61.5%"
    p95 = scalar(f"SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)) "
                 f"FROM jobs_jobrun WHERE {window}", TASK)
    assert stats["run_p95"] == pytest.approx(p95)


def test_each_queue_figure_counts_runs_and_shows_attempts_apart(ledger):
    lane = next(row for q in queue_overview()["queues"] if q["name"] == "topics" for row in q["lanes"]
                if row["lane"] == "normal")
    since = "now() - interval '24 hours'"
    failed_runs = scalar("SELECT count(DISTINCT a.run_id) FROM jobs_jobattempt a JOIN jobs_jobrun r ON r.id = a.run_id "
                         f"WHERE r.queue = 'topics' AND r.lane = 'normal' AND a.finished_at >= {since} "
                         "AND a.outcome IN ('failed', 'soft_time_limit', 'hard_time_limit', 'worker_lost')")
    failed_attempts = scalar("SELECT count(*) FROM jobs_jobattempt a JOIN jobs_jobrun r ON r.id = a.run_id "
                             f"WHERE r.queue = 'topics' AND r.lane = 'normal' AND a.finished_at >= {since} "
                             "AND a.outcome IN ('failed', 'soft_time_limit', 'hard_time_limit', 'worker_lost')")
    dead = scalar("SELECT count(*) FROM jobs_jobrun WHERE queue = 'topics' AND lane = 'normal' "
                  f"AND status = 'dead' AND finished_at >= {since}")
    running = scalar("SELECT count(*) FROM jobs_jobrun WHERE queue = 'topics' AND lane = 'normal' "
                     "AND status = 'running'")
    assert (failed_runs, failed_attempts, dead, running) == (4, 11, 3, 1)
    assert (lane["failed"], lane["failed_attempts"], lane["dead"], lane["running"]) == (
        failed_runs, failed_attempts, dead, running)


def test_the_dashboard_series_agree_with_the_ledger(ledger):
    series = dashboard_series("1h")
    assert len(series["labels"]) == 60 and series["step_seconds"] == 60
    total = {name: sum(series[name]) for name in ("succeeded", "dead", "failed_attempts")}
    since = series["labels"][0]  # the end of the first bucket
    first_start = f"timestamptz '{since}' - interval '1 minute'"
    assert total["succeeded"] == scalar(f"SELECT count(*) FROM jobs_jobrun WHERE status = 'succeeded' "
                                        f"AND finished_at >= {first_start}") == 8
    assert total["dead"] == scalar(f"SELECT count(*) FROM jobs_jobrun WHERE status = 'dead' "
                                   f"AND finished_at >= {first_start}") == 3
    assert total["failed_attempts"] == scalar(f"SELECT count(*) FROM jobs_jobattempt WHERE outcome = 'failed' "
                                              f"AND finished_at >= {first_start}") == 11
    # The last point is the queue depth now: runs enqueued and neither started nor finished.
    waiting_now = scalar("SELECT count(*) FROM jobs_jobrun WHERE started_at IS NULL AND finished_at IS NULL")
    assert series["waiting"][-1] == waiting_now == 4
    # Twelve minutes ago nothing waited (the queued runs came 5-8 minutes ago, the cancelled ones waited
    # from 10 minutes ago for a second, which bucket -12 can catch when the minute turns); at most five
    # waited: the four queued runs and, between 2 and 1 minutes ago, the run that is running now.
    assert series["waiting"][-13] == 0 and max(series["waiting"]) == 5


def test_the_dashboard_series_endpoint_answers_json_to_viewers_only(ledger):
    url = reverse("jobs:dashboard-series")
    admin = User.objects.create_superuser("op", "op@example.com", "pw")
    client = Client()
    assert client.get(url).status_code == 302
    client.force_login(admin)
    body = client.get(url, {"window": "1h"}).json()
    assert sum(body["succeeded"]) == 8 and body["waiting"][-1] == 4
    assert client.get(url, {"window": "24h"}).json()["step_seconds"] == 3600
    assert client.get(url, {"window": "bogus"}).status_code == 400


@pytest.mark.parametrize("value, text", [(None, "-"), (0, "0 B"), (512, "512 B"), (2048, "2.0 KiB"),
                                         (3.5 * 1024 ** 2, "3.5 MiB"), (5 * 1024 ** 5, "5120.0 TiB")])
def test_one_size_filter(value, text):
    assert Template("{% load jobs_format %}{{ v|size }}").render(Context({"v": value})) == text


def test_one_duration_filter():
    assert Template("{% load jobs_format %}{{ v|duration }}").render(Context({"v": 185})) == "3m 05s"
