import os
import signal

import pytest
from django.db import connection

from jobs.queues import get_redis, get_rq_queue, worker_queue_names


@pytest.fixture(autouse=True)
def clean_redis():
    """Every test starts with an empty Redis."""
    get_redis().flushdb()
    yield


@pytest.fixture
def services(pytestconfig):
    """The session's embedded PostgreSQL and Redis (to stop and start Redis in a test)."""
    return pytestconfig.engram_services


def run_worker(queues=None, with_scheduler=False, max_jobs=None):
    """Run an in-process burst EngramWorker until its queues are empty; return it."""
    from jobs.worker import EngramWorker

    names = queues or worker_queue_names()
    worker = EngramWorker([get_rq_queue(name) for name in names], connection=get_redis())
    # RQ installs SIGINT/SIGTERM handlers for its warm shutdown; give pytest its own back.
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        worker.work(burst=True, with_scheduler=with_scheduler, max_jobs=max_jobs, logging_level="WARNING")
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
    return worker


@pytest.fixture
def work():
    return run_worker


@pytest.fixture
def subprocess_env():
    """Environment for rqworker subprocesses: the session's services and the test database."""
    env = dict(os.environ)
    name = connection.settings_dict["NAME"]
    host = connection.settings_dict["HOST"]
    env["DATABASE_URL"] = f"postgresql://postgres@/{name}?host={host}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def make_due(run):
    """Travel to a scheduled run's time: move its run_after to now and hand its RQ job to the queue.

    This does what RQ's scheduler does when the time comes (tests/jobs/test_execution.py also
    lets the real scheduler do it in real time); doing it here keeps the test independent of the
    scheduler's per-queue lock, which another process may briefly hold.
    """
    from django.utils import timezone
    from rq.job import Job
    from rq.serializers import JSONSerializer

    type(run).objects.filter(pk=run.pk).update(run_after=timezone.now())
    queue = get_rq_queue(run.rq_queue_name)
    job = Job.fetch(run.rq_job_id, connection=get_redis(), serializer=JSONSerializer)
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Close sessions that killed workers left behind so the test database can be dropped."""
    import time

    yield
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            # Terminating is asynchronous: wait (bounded) until the backends are really gone.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
