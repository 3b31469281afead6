"""Enqueueing: validation, the outbox, unique runs, lanes and JSON payloads."""

import json
import zlib
from datetime import timedelta

import pytest
from django.db import transaction
from django.tasks import task
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from rq.job import Job

from jobs import InvalidArguments, RetryPolicy, RunStatus
from jobs.definitions import catalog
from jobs.dispatch import dispatch_pending
from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue
from jobs.samples import echo, high_noop, low_noop, noop, returns_42, unique_sleep

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_writes_the_run_and_hands_it_to_rq():
    result = returns_42.enqueue()
    run = JobRun.objects.get(pk=result.id)
    assert run.status == RunStatus.QUEUED
    assert run.task_path == "jobs.samples.returns_42"
    assert get_rq_queue("default.normal").job_ids == [run.rq_job_id]


def test_the_rq_payload_is_json_carrying_only_the_run_id():
    run_id = echo.enqueue(1, "two", three=3).id
    run = JobRun.objects.get(pk=run_id)
    raw = get_redis().hget(Job.key_for(run.rq_job_id), "data")
    payload = json.loads(zlib.decompress(raw))  # RQ zlib-compresses; json.loads rejects a pickle
    assert payload[0] == "jobs.runner.execute"
    assert payload[2] == [run_id]
    assert run.args == [1, "two"] and run.kwargs == {"three": 3}


def test_arguments_must_be_json_serialisable():
    with pytest.raises(InvalidArguments, match="JSON-serialisable"):
        echo.enqueue(object())
    with pytest.raises(InvalidArguments):
        echo.enqueue(value=float("nan"))
    assert not JobRun.objects.exists()


def test_a_transaction_defers_dispatch_until_commit():
    with transaction.atomic():
        run_id = noop.enqueue().id
        assert JobRun.objects.get(pk=run_id).status == RunStatus.PENDING
        assert get_rq_queue("default.normal").count == 0
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED
    assert get_rq_queue("default.normal").count == 1


def test_a_rolled_back_transaction_leaves_no_run_and_no_rq_job():
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            noop.enqueue()
            raise RuntimeError("roll back")
    assert not JobRun.objects.exists()
    assert get_rq_queue("default.normal").count == 0


def test_with_redis_down_the_run_stays_pending_until_the_dispatcher_pushes_it(services, settings):
    services.stop_redis()
    try:
        run_id = noop.enqueue().id
        assert JobRun.objects.get(pk=run_id).status == RunStatus.PENDING
        assert dispatch_pending(now=timezone.now() + timedelta(minutes=1)) == 0
    finally:
        services.start_redis()
    later = timezone.now() + timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS + 1)
    assert dispatch_pending(now=later) == 1
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.QUEUED
    assert get_rq_queue("default.normal").job_ids == [run.rq_job_id]


def test_the_dispatcher_leaves_fresh_runs_to_their_own_commit_hook():
    with transaction.atomic():
        noop.enqueue()
        transaction.set_rollback(False)
    JobRun.objects.update(status=RunStatus.PENDING, status_changed_at=timezone.now())
    assert dispatch_pending() == 0


def test_run_after_schedules_the_run_in_rq():
    when = timezone.now() + timedelta(hours=1)
    run_id = noop.using(run_after=when).enqueue().id
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SCHEDULED
    registry = get_rq_queue("default.normal").scheduled_job_registry
    assert registry.get_job_ids() == [run.rq_job_id]
    assert registry.get_scheduled_time(run.rq_job_id).timestamp() == pytest.approx(when.timestamp(), abs=1)


def test_priority_picks_the_lane():
    assert JobRun.objects.get(pk=high_noop.enqueue().id).rq_queue_name == "default.high"
    assert JobRun.objects.get(pk=low_noop.enqueue().id).rq_queue_name == "default.low"
    assert JobRun.objects.get(pk=noop.using(priority=10).enqueue().id).lane == "high"


def test_a_high_priority_run_behind_a_thousand_low_ones_starts_next(work):
    for _ in range(1000):
        low_noop.enqueue()
    high_id = high_noop.enqueue().id
    work(max_jobs=1)
    assert JobRun.objects.get(pk=high_id).status == RunStatus.SUCCEEDED
    assert JobRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 1


def test_a_unique_key_returns_the_active_run_instead_of_a_second(work):
    first = unique_sleep.enqueue("a", seconds=0)
    second = unique_sleep.enqueue("a", seconds=0)
    other = unique_sleep.enqueue("b", seconds=0)
    assert first.id == second.id != other.id
    assert JobRun.objects.count() == 2
    work()
    assert unique_sleep.enqueue("a", seconds=0).id != first.id  # finished runs free the key


def test_using_can_set_a_unique_key_per_call():
    assert noop.using(unique_key="x").enqueue().id == noop.using(unique_key="x").enqueue().id


def test_decoration_validates_the_definition():
    with pytest.raises(InvalidTask, match="Queue 'nowhere'"):
        task(queue_name="nowhere")(_module_level)
    with pytest.raises(InvalidTask, match="RetryPolicy"):
        task(retry=3)(_module_level)
    with pytest.raises(InvalidTask, match="soft_time_limit"):
        task(soft_time_limit=10, hard_time_limit=5)(_module_level)

    def nested():
        pass

    with pytest.raises(InvalidTask, match="module level"):
        task()(nested)


def test_a_policy_is_recorded_on_the_run():
    result = task(retry=RetryPolicy.linear(3, 60))(_module_level)
    assert result.retry.max_attempts == 3


def test_the_catalog_lists_the_sample_tasks():
    paths = [t.module_path for t in catalog()]
    assert "jobs.samples.noop" in paths and paths == sorted(paths)


def _module_level():
    pass


def test_runs_enqueued_in_one_transaction_are_dispatched_together_savepoints_respected():
    with transaction.atomic():
        kept = [noop.enqueue().id for _ in range(3)]
        try:
            with transaction.atomic():
                dropped = noop.enqueue().id
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        kept.append(noop.enqueue().id)
    assert not JobRun.objects.filter(pk=dropped).exists()
    assert JobRun.objects.filter(pk__in=kept, status=RunStatus.QUEUED).count() == 4
    assert get_rq_queue("default.normal").count == 4


def test_outside_a_transaction_a_redis_failure_returns_the_run_to_the_outbox(services):
    services.stop_redis()
    try:
        run_id = noop.using(run_after=timezone.now() + timedelta(hours=1)).enqueue().id
    finally:
        services.start_redis()
    assert JobRun.objects.get(pk=run_id).status == RunStatus.PENDING


def test_enqueue_many_writes_and_pushes_every_run_at_once(work):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        results = echo.enqueue_many([(n,) for n in range(250)], label="bulk")
    # One COPY for the rows (and one Redis pipeline); the policy cache may reload on its own clock.
    assert [q["sql"].split()[0] for q in queries if "jobs_taskpolicy" not in q["sql"]] == ["COPY"]
    assert len(results) == 250
    runs = JobRun.objects.filter(pk__in=[r.id for r in results])
    assert runs.filter(status=RunStatus.QUEUED, kwargs={"label": "bulk"}).count() == 250
    assert get_rq_queue("default.normal").count == 250
    work()
    assert sorted(run.args[0] for run in runs.filter(status=RunStatus.SUCCEEDED)) == list(range(250))


def test_enqueue_many_in_a_transaction_dispatches_on_commit_and_a_rollback_leaves_nothing():
    with transaction.atomic():
        ids = [r.id for r in noop.enqueue_many([()] * 3)]
        assert JobRun.objects.filter(pk__in=ids, status=RunStatus.PENDING).count() == 3
        assert get_rq_queue("default.normal").count == 0
    assert JobRun.objects.filter(pk__in=ids, status=RunStatus.QUEUED).count() == 3
    assert get_rq_queue("default.normal").count == 3
    with pytest.raises(RuntimeError), transaction.atomic():
        noop.enqueue_many([()] * 3)
        raise RuntimeError("roll back")
    assert JobRun.objects.count() == 3 and get_rq_queue("default.normal").count == 3


def test_enqueue_many_validates_every_call_before_writing_any():
    with pytest.raises(InvalidArguments):
        echo.enqueue_many([(1,), (object(),)])
    assert not JobRun.objects.exists()


def test_enqueue_many_with_redis_down_leaves_the_runs_in_the_outbox(services):
    services.stop_redis()
    try:
        ids = [r.id for r in noop.enqueue_many([()] * 4)]
    finally:
        services.start_redis()
    assert JobRun.objects.filter(pk__in=ids, status=RunStatus.PENDING).count() == 4
    assert dispatch_pending(now=timezone.now() + timedelta(minutes=1)) == 4


def test_enqueue_many_of_a_unique_task_returns_the_active_run_for_duplicates():
    first, second = unique_sleep.enqueue_many([(5,), (5,)])
    assert first.id == second.id and JobRun.objects.count() == 1


def test_the_fast_row_conversion_gives_what_djangos_save_would():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from jobs.models.row_values import row_values
    from tests.jobs.factories import make_schedule

    parent = JobRun.objects.get(pk=returns_42.enqueue().id)
    user = get_user_model().objects.create_user("row-values")
    run = JobRun(
        task_path="jobs.samples.echo", args=[1, "a", {"x": [1.5, None]}], kwargs={"k": True},
        queue="default", status=RunStatus.SCHEDULED, priority=-5, max_attempts=3, soft_time_limit=2.5,
        hard_time_limit=10, worker_pid=123, progress_total=2**40, run_after=timezone.now(),
        parent=parent, root=parent, schedule=make_schedule(), enqueued_by=user, unique_key=None,
    )
    fields = JobRun._meta.local_concrete_fields
    django_values = [f.get_db_prep_save(f.pre_save(run, True), connection) for f in fields]
    for field, expected, got in zip(fields, django_values, row_values(run, fields), strict=True):
        # Same value and the same adapter type (Jsonb, Int4, Int8...), JSON compared by content.
        assert type(got) is type(expected), field.name
        assert getattr(got, "obj", got) == getattr(expected, "obj", expected), field.name
    run.insert()
    stored = JobRun.objects.get(pk=run.pk)
    assert (stored.args, stored.kwargs, stored.hard_time_limit, stored.progress_total) == (
        [1, "a", {"x": [1.5, None]}], {"k": True}, 10.0, 2**40)
    assert (stored.parent_id, stored.schedule_id, stored.enqueued_by_id) == (parent.pk, run.schedule_id, user.pk)
