"""Live progress end to end: a real rqworker subprocess publishes, Redis carries, a WebSocket here watches."""

import os

import pytest
from asgiref.sync import async_to_sync

from jobs.models import JobRun
from jobs.samples import slow_with_progress
from tests.jobs.test_consumers import headers_for, is_final_event_of, make_user, open_socket, receive_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_watcher_sees_a_real_workers_progress_and_completion_through_redis(processes):
    run_id = slow_with_progress.enqueue(total=20, delay=0.05).id
    headers = headers_for(make_user("viewer"))

    async def scenario():
        communicator, snapshot = await open_socket(f"/ws/runs/{run_id}/", headers)
        # Started only now, so that every event of the run happens while we watch.
        processes.worker()
        events = await receive_until(communicator, is_final_event_of(run_id), timeout=60)
        await communicator.disconnect()
        return snapshot, events

    snapshot, events = async_to_sync(scenario)()
    assert (snapshot["type"], snapshot["status"]) == ("run.snapshot", "queued")
    assert JobRun.objects.get(pk=run_id).worker_pid != os.getpid(), "the run ran in the subprocess"
    types = [event["type"] for event in events]
    assert types[0] == "job.started" and types[-1] == "job.completed", types
    progress = [event for event in events if event["type"] == "job.progress"]
    # A one-second run, its ledger writes throttled to one per 250 ms: a few reports, in order.
    assert len(progress) >= 2, types
    assert [event["done"] for event in progress] == sorted(event["done"] for event in progress)
    assert progress[-1]["done"] == 20
    completed = events[-1]
    assert (completed["status"], completed["done"], completed["total"], completed["fraction"]) == (
        "succeeded", 20, 20, 1.0)
