"""Runs built as siblings of a cached prototype (and INSERTed with its literals) are the runs
a full JobRun(...) would give: per-run values never leak from one enqueue to the next (#10)."""

import pytest
from django.db import transaction

from jobs import RunStatus
from jobs.correlation import request_scope
from jobs.models import JobRun, TaskPolicy
from jobs.policies import forget
from jobs.samples import always_fails, echo, unique_sleep

pytestmark = pytest.mark.django_db(transaction=True)


def _row(result):
    return JobRun.objects.get(pk=result.id)


def test_each_single_enqueue_writes_its_own_arguments_key_and_timestamps():
    first, second = _row(echo.enqueue(1, "a%s%%b", x=None)), _row(echo.enqueue(2, x=[1]))
    assert (first.args, first.kwargs) == ([1, "a%s%%b"], {"x": None})
    assert (second.args, second.kwargs) == ([2], {"x": [1]})
    assert first.pk != second.pk and first.enqueued_at < second.enqueued_at
    assert first.status_changed_at == first.enqueued_at
    assert (first.status, first.dispatches, first.task_path, first.queue, first.lane) == (
        RunStatus.QUEUED, 1, echo.module_path, "default", "normal")


def test_a_run_enqueued_in_a_transaction_is_pending_until_commit_and_then_queued():
    with transaction.atomic():
        result = echo.enqueue(3)
        assert (_row(result).status, _row(result).dispatches) == (RunStatus.PENDING, 0)
    run = _row(result)
    assert (run.status, run.dispatches, run.args) == (RunStatus.QUEUED, 1, [3])


def test_the_request_id_is_read_at_each_enqueue_not_taken_from_the_prototype():
    with request_scope("req-1"):
        inside = _row(echo.enqueue())
        bulk = [_row(r) for r in echo.enqueue_many([(1,), (2,)])]
    outside = _row(echo.enqueue())
    assert inside.request_id == "req-1" and {r.request_id for r in bulk} == {"req-1"}
    assert outside.request_id == ""


@pytest.fixture
def fresh_policies():
    """The policy cache forgets this test's overrides (a flush sends no post_delete)."""
    forget()
    yield
    forget()


def test_an_admin_policy_edit_reaches_the_next_enqueue(fresh_policies):
    before = _row(always_fails.enqueue())
    TaskPolicy.objects.create(task_path=always_fails.module_path, max_attempts=7, backoff="fixed",
                              backoff_base=5)
    forget()
    after = _row(always_fails.enqueue())
    assert before.max_attempts == 3 and after.max_attempts == 7
    assert after.retry_policy["max_attempts"] == 7 and before.retry_policy["max_attempts"] == 3


def test_unique_keys_are_resolved_per_run_in_bulk_and_singly():
    runs = [_row(r) for r in unique_sleep.enqueue_many([("a",), ("b",)])]
    single = _row(unique_sleep.enqueue("c"))
    assert [r.unique_key for r in runs] == ["sample:a", "sample:b"] and single.unique_key == "sample:c"
    assert unique_sleep.enqueue("a").id == str(runs[0].pk)  # the active duplicate answers


def test_a_bulk_enqueue_writes_every_run_with_its_own_arguments():
    results = echo.enqueue_many([(n,) for n in range(600)], flag=True)  # two COPY chunks
    runs = {str(r.pk): r for r in JobRun.objects.filter(pk__in=[r.id for r in results])}
    assert [runs[r.id].args for r in results] == [[n] for n in range(600)]
    assert {runs[r.id].kwargs["flag"] for r in results} == {True}
    assert len({r.retry_policy["max_attempts"] for r in runs.values()}) == 1
