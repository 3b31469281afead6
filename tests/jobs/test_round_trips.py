"""Round trips per job, counted (not timed): the load-independent measure of the hot paths (#10).

Redis round trips are counted where redis-py sends a packed command (one send per command or
per pipeline); SQL statements with CaptureQueriesContext. Both run against the real services.
"""

import signal
import threading

import pytest
import redis.connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import RunStatus
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.samples import noop
from jobs.worker import EngramWorker

pytestmark = pytest.mark.django_db(transaction=True)

LANES = ("default.high", "default.normal", "default.low")
# Sent on a clock, not per job (RQ's key refresh, the paused-queue cache, RQ's maintenance).
PERIODIC = ("last_heartbeat", "engram:queues:paused", "LLEN", "ZREMRANGEBYSCORE", "ZRANGEBYSCORE", "ZRANGE",
            "rq:clean_registries", "LRANGE", "SMEMBERS", "EXISTS", "CLIENT", "SUBSCRIBE")


def verb(query):
    """The SQL verb of a captured statement (a prepared one is recorded as "QUERY = '...' - PARAMS = ...")."""
    sql = query["sql"]
    return sql.removeprefix("QUERY = ").lstrip("'\"").split()[0]


@pytest.fixture
def redis_trips(monkeypatch):
    """The Redis round trips this thread makes, each as the text of what it sent."""
    trips = []
    real = redis.connection.AbstractConnection.send_packed_command
    thread = threading.get_ident()

    def counting(conn, command, check_health=True):
        if threading.get_ident() == thread:
            parts = command if isinstance(command, (list, tuple)) else [command]
            trips.append(b"".join(bytes(part) for part in parts).decode(errors="replace"))
        return real(conn, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return trips


def test_a_single_enqueue_is_one_statement_and_one_redis_round_trip(redis_trips):
    noop.enqueue()  # warm the task policy cache
    redis_trips.clear()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            noop.enqueue()
    assert [verb(q) for q in queries] == ["INSERT"] * 10
    assert len(redis_trips) == 10


def test_a_bulk_enqueue_is_one_copy_and_one_redis_round_trip_per_chunk(redis_trips):
    noop.enqueue()
    redis_trips.clear()
    with CaptureQueriesContext(connection) as queries:
        noop.enqueue_many([()] * 1000)
    assert [verb(q) for q in queries] == ["COPY", "COPY"]  # chunks of 500
    assert len(redis_trips) == 2


def test_a_worker_spends_two_statements_and_one_redis_round_trip_per_job(redis_trips):
    jobs = 30
    for _ in range(jobs):
        noop.enqueue()
    worker = EngramWorker([get_rq_queue(name) for name in LANES], connection=get_redis())
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    redis_trips.clear()
    try:
        with CaptureQueriesContext(connection) as queries:
            worker.work(burst=False, max_jobs=jobs, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    assert JobRun.objects.filter(status=RunStatus.SUCCEEDED).count() == jobs
    # The claim and the outcome (with its attempt row): nothing else reads or writes a run.
    ledger = [q["sql"] for q in queries if "jobs_jobrun" in q["sql"] or "jobs_jobattempt" in q["sql"]]
    assert len(ledger) == 2 * jobs
    per_job = [trip for trip in redis_trips if not any(word in trip for word in PERIODIC)]
    # One script per job pops the job, reads its payload, marks it started and deletes the hash
    # of the job before (its outcome is in the ledger): no Job.fetch, no RQ bookkeeping.
    takes = [trip for trip in per_job if trip.startswith("*") and "EVALSHA" in trip]
    assert jobs <= len(takes) <= jobs + 1  # the first call meets NOSCRIPT, loads it, calls again
    for word in ("HGETALL", "BLPOP", "ZADD", "MULTI\r\n*", "rq:results"):
        assert sum(word in trip for trip in per_job) <= 2, word  # start-up and shutdown only
    assert len(per_job) <= jobs + 10  # the rest: start-up (HELLO, SCRIPT LOAD, birth) and shutdown
    # Every finished job's hash is gone (the last one's at the worker's death).
    assert not get_redis().keys("rq:job:*")


@pytest.mark.parametrize("prepared", [True, False])
def test_the_claim_and_the_outcome_are_prepared_statements_unless_turned_off(prepared, settings, work):
    settings.JOBS_PREPARED_STATEMENTS = prepared
    connection.close()  # a fresh session: nothing prepared on it yet
    for _ in range(3):
        noop.enqueue()
    work(queues=LANES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%jobs_jobrun%"])
        statements = [row[0] for row in cursor.fetchall()]
    assert JobRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 3
    if prepared:  # planned once per connection, then only their parameters are sent
        assert any("RETURNING" in s and "attempt = attempt + 1" in s for s in statements)
        assert any("INSERT INTO jobs_jobattempt" in s for s in statements)
    else:  # behind a transaction-pooling PgBouncer, a session's prepared statements are not its own
        assert statements == []
