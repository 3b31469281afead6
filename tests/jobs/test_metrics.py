"""/metrics: who may scrape it, the ledger's gauges, the workers' counters, and multiprocess mode."""

import re
import subprocess
import sys

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs import metrics
from jobs.models import JobRun, Worker
from jobs.queues import worker_queue_names
from jobs.samples import fails_n_times, returns_42, slow_with_progress
from jobs.scheduler import Leadership
from tests.users import make_outsider, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-secret-0123456789"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def samples(text):
    """{(name, frozenset(labels)): value} of every sample in a text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(parsed, name, **labels):
    return parsed.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape(client, settings):
    settings.JOBS_METRICS_TOKEN = TOKEN

    def get():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=")
        return samples(response.content.decode())

    return get


def test_metrics_need_the_token_or_a_staff_viewer(client, settings):
    settings.JOBS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    client.force_login(make_outsider())
    assert client.get("/metrics").status_code == 401
    client.force_login(make_staff("nosee"))
    assert client.get("/metrics").status_code == 401
    client.force_login(make_staff("viewer", perms=["jobs.view_jobrun"]))
    assert client.get("/metrics").status_code == 200


def test_without_a_configured_token_no_bearer_is_accepted(client, settings):
    settings.JOBS_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_the_ledger_gauges_show_waiting_runs_depths_workers_leader_and_outbox(scrape, services):
    Worker.register("w1", "host", 1, worker_queue_names(["default"]))
    for _ in range(3):
        returns_42.enqueue()
    JobRun.objects.update(status_changed_at=timezone.now() - timezone.timedelta(seconds=90))
    parsed = scrape()
    assert value(parsed, "jobs_runs", task="jobs.samples.returns_42", status="queued") == 3
    assert value(parsed, "jobs_queue_depth", queue="default", lane="normal") == 3
    assert value(parsed, "jobs_queue_depth", queue="topics", lane="high") == 0
    assert value(parsed, "jobs_queue_waiting_runs", queue="default") == 3
    assert value(parsed, "jobs_queue_oldest_waiting_seconds", queue="default") >= 90
    assert ("jobs_queue_waiting_runs", frozenset({("queue", "topics")})) in parsed  # zero, not absent
    assert value(parsed, "jobs_workers_alive", queue="default") == 1
    assert value(parsed, "jobs_workers_alive", queue="topics") == 0
    assert value(parsed, "jobs_scheduler_leader") == 0
    assert value(parsed, "jobs_outbox_runs") == 0
    assert value(parsed, "jobs_metrics_source_up", source="redis") == 1

    services.stop_redis()
    try:
        returns_42.enqueue()  # Redis is down: the run stays in the outbox
        parsed = scrape()
    finally:
        services.start_redis()
    assert value(parsed, "jobs_metrics_source_up", source="redis") == 0
    assert value(parsed, "jobs_metrics_source_up", source="database") == 1
    assert value(parsed, "jobs_outbox_runs") == 1


def test_the_scheduler_leader_and_its_last_tick_are_exported(scrape):
    leadership = Leadership()
    assert leadership.acquire()
    try:
        parsed = scrape()
    finally:
        leadership.release()
    assert value(parsed, "jobs_scheduler_leader") == 1
    assert 0 <= value(parsed, "jobs_scheduler_last_tick_age_seconds") < 60


def test_workers_count_starts_outcomes_retries_durations_waits_and_progress(scrape, work):
    before = scrape()
    returns_42.enqueue()
    fails_n_times.enqueue("metrics", 5)  # three attempts: two retried, then dead
    slow_with_progress.enqueue(total=3, delay=0)
    work()
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"task": "jobs.samples.returns_42", "queue": "default"}
    failing = {"task": "jobs.samples.fails_n_times", "queue": "default"}
    assert delta("jobs_task_started_total", **ok) == 1
    assert delta("jobs_task_succeeded_total", **ok) == 1
    assert delta("jobs_task_started_total", **failing) == 3
    assert delta("jobs_task_failed_total", **failing) == 3
    assert delta("jobs_task_retried_total", **failing) == 2
    assert delta("jobs_task_dead_total", **failing) == 1
    assert delta("jobs_task_succeeded_total", **failing) == 0
    assert delta("jobs_task_duration_seconds_count", **ok, outcome="succeeded") == 1
    assert delta("jobs_task_duration_seconds_count", **failing, outcome="dead") == 1
    assert delta("jobs_task_wait_seconds_count", **ok) == 1
    assert delta("jobs_task_progress_events_total", task="jobs.samples.slow_with_progress", queue="default") >= 1


def test_a_cancelled_waiting_run_is_counted_by_the_process_that_cancelled_it(scrape):
    from jobs.control import cancel_run

    before = scrape()
    run = JobRun.objects.get(pk=returns_42.enqueue().id)
    assert cancel_run(run) == "cancelled"
    after = scrape()
    labels = {"task": "jobs.samples.returns_42", "queue": "default"}
    assert value(after, "jobs_task_cancelled_total", **labels) - value(before, "jobs_task_cancelled_total", **labels) == 1


def test_labels_are_bounded_to_task_and_queue_names(scrape, work):
    JobRun.objects.create(task_path="not.a.catalog.task", queue="nowhere", status="queued")
    returns_42.enqueue()
    work()
    parsed = scrape()
    label_values = {v for (_, labels) in parsed for _, v in labels}
    assert not any(UUID.search(v) for v in label_values)
    assert "not.a.catalog.task" not in label_values and "nowhere" not in label_values
    assert value(parsed, "jobs_runs", task="other", status="queued") == 1


def test_domain_packages_register_series_through_the_same_layer(scrape):
    documents = metrics.counter("engram_test_documents_total", "Documents seen in a test.", ["kind"])
    assert metrics.counter("engram_test_documents_total", "Documents seen in a test.", ["kind"]) is documents
    with pytest.raises(ValueError):
        metrics.histogram("engram_test_documents_total", "Not a histogram.", ["kind"])
    documents.labels("pdf").inc(2)

    class Ingested:
        def collect(self):
            from prometheus_client.core import GaugeMetricFamily

            yield GaugeMetricFamily("engram_test_backlog", "A scrape-time domain gauge.", value=7)

    collector = metrics.register_collector(Ingested())
    try:
        parsed = scrape()
    finally:
        metrics._collectors.remove(collector)  # the registry is process-wide; later scrapes need not see it
    assert value(parsed, "engram_test_documents_total", kind="pdf") >= 2
    assert value(parsed, "engram_test_backlog") == 7


@pytest.mark.slow
def test_in_multiprocess_mode_a_scrape_adds_up_every_worker_process(subprocess_env, tmp_path, monkeypatch):
    env = dict(subprocess_env, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for _ in range(4):
        returns_42.enqueue()
    workers = [
        subprocess.run([sys.executable, "manage.py", "rqworker", "--burst", "--max-jobs", "2", "default.normal"],
                       env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert all(w.returncode == 0 for w in workers), [w.stderr[-2000:] for w in workers]
    assert len(list(tmp_path.glob("*.db"))) >= 2  # each process wrote its own file
    assert JobRun.objects.succeeded().count() == 4

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    parsed = samples(metrics.exposition(ledger=False).decode())
    assert value(parsed, "jobs_task_succeeded_total", task="jobs.samples.returns_42", queue="default") == 4
    assert value(parsed, "jobs_task_started_total", task="jobs.samples.returns_42", queue="default") == 4


def test_every_ledger_query_of_a_scrape_reads_an_index_of_unfinished_runs():
    """The scrape must stay cheap on a table of millions of finished runs."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from jobs.metrics.ledger import LedgerCollector

    # A ledger shaped like production's: many finished runs, a few waiting. On tiny tables the
    # planner's costs tie and any index wins; with real statistics only the right one should.
    for _ in range(3):
        returns_42.enqueue()
    template = JobRun.objects.first()
    columns = [f.column for f in JobRun._meta.concrete_fields if f.column not in ("id", "status", "unique_key")]
    listed = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO jobs_jobrun (id, status, {listed}) SELECT gen_random_uuid(), \'succeeded\', {listed} '
            "FROM jobs_jobrun, generate_series(1, 20000) WHERE id = %s",
            [template.pk],
        )
        cursor.execute("ANALYZE jobs_jobrun")
    with CaptureQueriesContext(connection) as queries:
        list(LedgerCollector().collect())
    run_queries = [q["sql"] for q in queries.captured_queries if '"jobs_jobrun"' in q["sql"]]
    assert len(run_queries) == 3  # runs by task and status, waiting runs per queue, the outbox
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in run_queries:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "jobs_run_unfinished_idx" in plan or "jobs_run_status_idx" in plan, plan
            assert "Seq Scan on jobs_jobrun" not in plan, plan
