"""How a new run is stored: a time-ordered key, and one prepared INSERT per single enqueue (#10)."""

import time

import pytest
from django.db import connection

from jobs.models import JobRun
from jobs.run_ids import new_run_id
from jobs.samples import echo, noop

pytestmark = pytest.mark.django_db(transaction=True)


def _millis(run_id):
    return run_id.int >> 80


def test_run_ids_are_uuid7_carrying_their_creation_millisecond():
    before = time.time_ns() // 1_000_000
    single = JobRun.objects.get(pk=noop.enqueue().id).pk
    bulk = [JobRun.objects.get(pk=r.id).pk for r in echo.enqueue_many([(1,), (2,)])]
    created = JobRun.objects.create(task_path="jobs.samples.noop", queue="default").pk
    after = time.time_ns() // 1_000_000
    for run_id in (single, *bulk, created):
        assert (run_id.version, run_id.variant) == (7, "specified in RFC 4122")
        assert before <= _millis(run_id) <= after


def test_run_ids_ascend_across_milliseconds_and_stay_random_within_one():
    ids = []
    for _ in range(3):
        ids.append(new_run_id())
        time.sleep(0.002)
    assert ids == sorted(ids)
    same_millisecond = {new_run_id().int & ((1 << 80) - 1) for _ in range(1000)}
    assert len(same_millisecond) == 1000  # 74 random bits each: no collision, nothing counted


@pytest.mark.parametrize("prepared", [True, False])
def test_a_single_enqueue_is_a_prepared_insert_unless_turned_off(prepared, settings):
    settings.JOBS_PREPARED_STATEMENTS = prepared
    connection.close()  # a fresh session: nothing prepared on it yet
    for _ in range(3):
        noop.enqueue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["INSERT INTO jobs_jobrun%"])
        statements = [row[0] for row in cursor.fetchall()]
    assert JobRun.objects.count() == 3
    # Prepared once per connection and statement: the later enqueues send only their values.
    assert len(statements) == (1 if prepared else 0)
