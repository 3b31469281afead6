"""/healthz, /readyz and `manage.py jobs health`: each check, its latency, and the status codes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from jobs import health
from jobs.models import Worker
from jobs.queues import worker_queue_names
from jobs.scheduler import Leadership

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def leader():
    """A scheduler holding the real leader lease, as `jobs scheduler` does."""
    leadership = Leadership()
    assert leadership.acquire()
    yield leadership
    leadership.release()


@pytest.fixture
def workers():
    """One live worker listening to every queue."""
    return Worker.register("w1", "host", 1, worker_queue_names())


def test_healthz_answers_without_consulting_anything(client, services):
    services.stop_redis()
    try:
        response = client.get("/healthz")
    finally:
        services.start_redis()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_with_every_check_and_its_latency(client, leader, workers):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "migrations", "workers", "scheduler"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0
    assert body["checks"]["scheduler"]["detail"].startswith("jobs scheduler ")


def test_readyz_turns_503_when_redis_stops_and_200_when_it_returns(client, services, leader, workers):
    assert client.get("/readyz").status_code == 200
    services.stop_redis()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["redis"]["status"] == "fail"
        assert checks["database"]["status"] == "ok"
    finally:
        services.start_redis()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


def test_readyz_names_the_queues_without_a_live_worker(client, leader, settings):
    Worker.register("w1", "host", 1, ["default.high", "default.normal", "default.low"])
    stopped = Worker.register("w2", "host", 2, ["topics.normal"])
    Worker.mark_stopped(stopped.name, {"done": 0, "failed": 0})
    settings.JOBS_QUEUES = ["default", "topics"]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {
        "status": "fail", "detail": "no live worker for: topics", "latency_ms": pytest.approx(0, abs=1000),
    }


def test_readyz_fails_without_a_scheduler_leader(client, workers):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"]["status"] == "fail"


def test_a_missing_migration_fails_the_check(monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [(type("M", (), {
        "app_label": "jobs", "name": "0099_future"})(), False)])
    assert health.check_migrations() == (False, "1 unapplied: jobs.0099_future")


def test_the_health_command_prints_the_checks_and_exits_1_on_failure(services, leader, workers):
    out = StringIO()
    call_command("jobs", "health", stdout=out)
    assert "redis" in out.getvalue() and "ok" in out.getvalue()
    services.stop_redis()
    try:
        out = StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("jobs", "health", "--json", stdout=out)
    finally:
        services.start_redis()
    assert exited.value.code == 1
    assert json.loads(out.getvalue())["checks"]["redis"]["status"] == "fail"


def test_readyz_takes_a_few_queries(client, leader, workers, django_assert_max_num_queries):
    client.get("/readyz")  # the migration check remembers its success after the first time
    with django_assert_max_num_queries(3):
        assert client.get("/readyz").status_code == 200


def test_the_probes_are_public_but_read_only(client):
    assert client.post(reverse("jobs:healthz")).status_code == 405
    assert client.post(reverse("jobs:readyz")).status_code == 405
