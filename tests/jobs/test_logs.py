"""Structured logs: JSON or plain lines carrying the run's and the request's ids; request ids
returned to the client and inherited by the runs a request enqueues."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.tasks import task
from django.urls import reverse

from jobs.models import JobRun
from memory.models import ApiToken
from project.log_format import CorrelationFilter, JsonFormatter, PlainFormatter, logging_config
from tests.users import make_operator

pytestmark = pytest.mark.django_db(transaction=True)

logger = logging.getLogger("jobs.tests.logs")


@task()
def logs_a_line(word):
    """A task that logs one line (module-level, so a worker can import it)."""
    logger.warning("working on %s", word, extra={"word": word})
    return word


@pytest.fixture
def lines():
    """Collect what `jobs.tests.logs` writes through the configured formatter (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationFilter())
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.fixture
def operator_client(client):
    return type(client)(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(make_operator(), 'ci')}")


def test_the_settings_pick_the_format_from_log_format():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["correlation", "redact"]
    config = logging_config("json")
    assert config["handlers"]["console"]["formatter"] == "json"
    assert config["formatters"]["json"]["()"] == "project.log_format.JsonFormatter"


def test_every_line_logged_during_a_run_carries_its_run_task_attempt_queue_and_worker(lines, work):
    run_id = logs_a_line.enqueue("bricks").id
    work()
    [line] = lines()
    run = JobRun.objects.get(pk=run_id)
    assert line["message"] == "working on bricks" and line["level"] == "WARNING" and line["word"] == "bricks"
    assert line["run_id"] == str(run_id)
    assert line["task"] == "tests.jobs.test_logs.logs_a_line"
    assert line["attempt"] == 1 and line["queue"] == "default"
    assert line["worker"] == run.worker_name != ""
    assert "request_id" not in line  # enqueued outside a request


def test_outside_a_run_a_line_has_no_run_fields(lines):
    logger.warning("idle")
    [line] = lines()
    assert set(line) == {"time", "level", "logger", "message"}


def test_a_plain_line_ends_its_message_with_the_ids():
    record = logging.LogRecord("jobs.x", logging.INFO, __file__, 1, "done", (), None)
    record.context = {"run_id": "r1", "task": "t", "request_id": "q1"}
    assert PlainFormatter().format(record).endswith("INFO jobs.x: done [run_id=r1 task=t request_id=q1]")


def test_a_request_gets_an_id_it_returns_and_keeps_a_sane_one_from_the_client(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-ID"] == "lb-1234.abc"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=ERROR")["X-Request-ID"]
    assert forged != "x\nlevel=ERROR" and len(forged) == 32


def post_run(client, body, request_id):
    return client.post(reverse("jobs:api-runs"), json.dumps(body), content_type="application/json",
                       HTTP_X_REQUEST_ID=request_id)


def test_a_request_and_the_runs_it_caused_share_its_id_in_the_ledger_and_the_logs(operator_client, lines, work):
    response = post_run(operator_client, {"task": "tests.jobs.test_logs.logs_a_line", "args": ["mortar"]}, "req-42")
    assert response.status_code == 201 and response["X-Request-ID"] == "req-42"
    assert response.json()["request_id"] == "req-42"
    work()
    [line] = lines()
    assert line["request_id"] == "req-42" and line["run_id"] == response.json()["id"]


def test_children_of_a_run_inherit_its_request_id(operator_client, work):
    assert post_run(operator_client, {"task": "jobs.samples.spawns_children", "args": [2]}, "req-43").status_code == 201
    work()
    assert JobRun.objects.filter(request_id="req-43").count() == 3  # the parent and its two children
    listed = operator_client.get(reverse("jobs:api-runs"), {"request_id": "req-43"}).json()["results"]
    assert len(listed) == 3 and {run["task"] for run in listed} == {"jobs.samples.spawns_children",
                                                                     "jobs.samples.returns_42"}


def test_a_line_logged_in_a_run_a_request_caused_carries_the_request_id(lines, work):
    from jobs.correlation import request_scope

    with request_scope("req-7"):
        run_id = logs_a_line.enqueue("lime").id
    work()
    [line] = lines()
    assert line["request_id"] == "req-7" and line["run_id"] == str(run_id)


def test_each_request_is_logged_once_with_its_id_and_probes_only_at_debug(client, caplog):
    caplog.set_level(logging.DEBUG, logger="engram.request")
    client.get("/api/runs/", HTTP_X_REQUEST_ID="req-9")
    client.get("/healthz")
    records = [r for r in caplog.records if r.name == "engram.request"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "GET /api/runs/ 401"), (logging.DEBUG, "GET /healthz 200"),
    ]
    assert records[0].status == 401 and records[0].duration_ms >= 0
