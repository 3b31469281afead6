"""A worker's success rides on its next claim: one statement per job, nothing lost on the way."""

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext

from jobs import RunStatus
from jobs.models import JobRun
from jobs.runner import deferred, execute
from jobs.samples import noop_with_progress, returns_42
from jobs.signals import run_status_changed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deferring():
    """Turn deferral on as EngramWorker does while it runs (and write anything left at the end)."""
    deferred.enabled = True
    try:
        yield deferred
    finally:
        deferred.flush()
        deferred.enabled = False


def status(run_id):
    return JobRun.objects.get(pk=run_id).status


def test_a_held_success_is_written_by_the_next_claim_in_the_same_statement(deferring):
    first, second = returns_42.enqueue().id, returns_42.enqueue().id
    statuses = []
    run_status_changed.connect(on := lambda sender, run, status, **kw: statuses.append((str(run.pk), status)))
    try:
        execute(first)
        assert status(first) == RunStatus.RUNNING  # finished, held until this worker's next claim
        with CaptureQueriesContext(connection) as queries:
            execute(second)
    finally:
        run_status_changed.disconnect(on)
    assert len(queries) == 1  # the first run's success and the second's claim
    run = JobRun.objects.get(pk=first)
    assert run.status == RunStatus.SUCCEEDED and run.result == 42
    assert run.attempts.get().outcome == "succeeded"
    assert status(second) == RunStatus.RUNNING
    # The first run's success is announced before the second run starts.
    assert statuses == [(first, "started"), (first, "succeeded"), (second, "started")]
    deferring.flush()
    assert status(second) == RunStatus.SUCCEEDED


def test_a_held_success_survives_a_claim_statement_that_fails(deferring):
    run_id = noop_with_progress.enqueue().id
    execute(run_id)
    with pytest.raises(DataError):
        execute("not-a-uuid")  # Postgres rejects the statement: neither write happened
    assert deferring.pending is not None
    deferring.flush()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.progress_done, run.progress_total, run.progress_message) == (1, 1, "done")


def test_without_a_flushing_worker_each_success_is_written_at_once():
    assert not deferred.enabled
    run_id = returns_42.enqueue().id
    execute(run_id)
    assert status(run_id) == RunStatus.SUCCEEDED
    assert deferred.pending is None


def test_a_worker_writes_its_last_success_before_it_stops(work):
    run_ids = [returns_42.enqueue().id for _ in range(5)]
    work()
    assert not deferred.enabled and deferred.pending is None
    assert all(status(run_id) == RunStatus.SUCCEEDED for run_id in run_ids)


def test_a_claim_of_the_run_it_holds_writes_the_success_first(deferring):
    run_id = returns_42.enqueue().id
    execute(run_id)
    # A duplicate RQ job of the same run: one statement cannot update the row twice.
    assert execute(run_id)["skipped"] is True
    assert status(run_id) == RunStatus.SUCCEEDED


def test_a_held_success_keeps_its_run_reported_as_the_workers_current_one(deferring):
    from jobs.runner import stats

    run_id = returns_42.enqueue().id
    execute(run_id)
    # Still "running" in the ledger: the heartbeat must keep claiming it, or recovery would
    # take the finished run for lost and run it again.
    assert status(run_id) == RunStatus.RUNNING
    assert str(stats["current_run"]) == run_id
    deferring.flush()
    assert status(run_id) == RunStatus.SUCCEEDED
    assert stats["current_run"] is None
