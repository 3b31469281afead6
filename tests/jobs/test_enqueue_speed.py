"""What makes an enqueue cheap, checked: a time-ordered key, one prepared INSERT per single
enqueue, one Redis script call per batch, no cyclic GC passes during a bulk enqueue (#10)."""

import gc
import time

import pytest
from django.db import connection
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued

from jobs.exceptions import InvalidArguments
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


def test_a_bulk_enqueue_pauses_the_cyclic_collector_and_always_turns_it_back_on():
    seen = []

    def record(sender, task_result, **kwargs):
        seen.append(gc.isenabled())

    task_enqueued.connect(record)
    try:
        echo.enqueue_many([(1,), (2,)])
        noop.enqueue()
        with pytest.raises(InvalidArguments):
            echo.enqueue_many([(1,), (object(),)])
    finally:
        task_enqueued.disconnect(record)
    assert seen == [False, False, True]  # paused for the batch, not for a single enqueue
    assert gc.isenabled()  # after the failed batch too


def test_a_bulk_enqueue_leaves_a_collector_it_found_off_alone():
    gc.disable()
    try:
        echo.enqueue_many([(1,), (2,)])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_task_checked_once_is_checked_again_by_a_backend_with_new_settings(settings):
    noop.enqueue()  # valid, and remembered as valid by this backend
    settings.TASKS = {"default": {**settings.TASKS["default"], "QUEUES": ["elsewhere"]}}
    with pytest.raises(InvalidTask, match="Queue 'default' is not valid"):
        noop.enqueue()


def test_a_bulk_enqueue_stores_the_shared_retry_policy_as_json_on_every_run():
    from jobs.samples import fails_n_times

    single = JobRun.objects.get(pk=fails_n_times.enqueue("a", 0).id)
    bulk = JobRun.objects.filter(pk__in=[r.id for r in fails_n_times.enqueue_many([("b", 0), ("c", 0), ("d", 0)])])
    assert isinstance(single.retry_policy, dict) and single.retry_policy["max_attempts"] > 1
    assert [run.retry_policy for run in bulk] == [single.retry_policy] * 3
    with connection.cursor() as cursor:  # a JSON object in the column, not a JSON string
        cursor.execute("SELECT DISTINCT jsonb_typeof(retry_policy) FROM jobs_jobrun")
        assert cursor.fetchall() == [("object",)]
