"""A worker sends each claim when it dequeues the job, on a helper thread borrowing its connection."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs import RunStatus
from jobs.dispatch import dispatch_pending
from jobs.ledger_thread import LedgerThread
from jobs.models import JobRun
from jobs.runner import _claims_ahead, ledger
from jobs.samples import noop, returns_42
from jobs.worker import EngramWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def helper():
    thread = LedgerThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def test_the_helper_runs_statements_in_order_on_the_callers_connection(helper):
    connection.close()  # the first submit opens it, on this thread: never both threads at once
    seen = []

    def statement(n):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), %s", [n])
            seen.append((threading.current_thread().name, *cursor.fetchone()))

    futures = [helper.submit(statement, n) for n in range(5)]
    with connection.cursor() as cursor:  # a query of this thread waits for the five first
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
        assert all(future.done() for future in futures)
    assert [n for _, _, n in seen] == [0, 1, 2, 3, 4]
    assert {pid for _, pid, _ in seen} == {own_pid}  # one connection, not one per thread
    assert all(name.startswith("engram-ledger") for name, _, _ in seen)


def test_an_error_on_the_helper_reaches_whoever_waits_for_that_statement(helper):
    def failing():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    future = helper.submit(failing)
    with pytest.raises(Exception, match="division by zero"):
        future.result()
    with connection.cursor() as cursor:  # the connection is fine afterwards
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_stopping_gives_the_connection_back_to_its_thread_alone():
    connection.ensure_connection()
    sharing, wrappers = connection._thread_sharing_count, list(connection.execute_wrappers)
    thread = LedgerThread()
    thread.start()
    assert thread.running and connection._thread_sharing_count == sharing + 1
    thread.stop()
    assert not thread.running
    assert connection._thread_sharing_count == sharing and connection.execute_wrappers == wrappers


def test_a_worker_claims_each_run_before_rq_prepares_its_job(work, monkeypatch):
    run_ids = [returns_42.enqueue().id for _ in range(3)]
    seen = []
    prepare = EngramWorker.prepare_job_execution

    def watching(self, job, *args, **kwargs):
        # The claim was sent when the job was dequeued: once the helper is done, it is written.
        ledger.drain()
        seen.append(JobRun.objects.get(pk=job.args[0]).status)
        return prepare(self, job, *args, **kwargs)

    monkeypatch.setattr(EngramWorker, "prepare_job_execution", watching)
    work()
    assert seen == [RunStatus.RUNNING] * 3
    assert not _claims_ahead and not ledger.running
    runs = JobRun.objects.filter(pk__in=run_ids)
    assert {run.status for run in runs} == {RunStatus.SUCCEEDED} and {run.result for run in runs} == {42}


def test_one_statement_per_job_when_claims_go_ahead(work):
    for _ in range(4):
        noop.enqueue()
    with CaptureQueriesContext(connection) as queries:
        work()
    ledger_writes = [q["sql"] for q in queries if "jobs_jobrun" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "WITH"))]
    # Four claims, three of them carrying the previous run's success, and the last success alone.
    assert len(ledger_writes) == 5
    assert JobRun.objects.succeeded().count() == 4


def test_a_run_claimed_ahead_whose_job_rq_never_starts_goes_back_to_the_outbox(work, monkeypatch):
    run_id = returns_42.enqueue().id
    budget = JobRun.objects.get(pk=run_id).max_attempts

    def redis_gone(self, job, *args, **kwargs):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(EngramWorker, "prepare_job_execution", redis_gone)
    work()  # RQ gives up on the loop; the claim it made ahead is handed back
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.PENDING
    attempt = run.attempts.get()
    assert attempt.outcome == "interrupted"
    assert run.max_attempts == budget + 1  # the interruption did not spend the task's attempt

    monkeypatch.undo()
    JobRun.objects.filter(pk=run_id).update(status_changed_at=run.status_changed_at.replace(year=2000))
    assert dispatch_pending() == 1
    work()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.result == 42
