"""The scheduler one step at a time: interval and cron firing, misfire policies, overlap, lost tasks."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from jobs import RunStatus, Trigger
from jobs.models import JobRun, MisfirePolicy, OverlapPolicy, Schedule
from jobs.scheduler import fire_due
from tests.jobs.scheduler_steps import T0, due_at, fire_times, make_schedule, walk


pytestmark = pytest.mark.django_db(transaction=True)


# --- interval and cron firing ------------------------------------------------------------


def test_an_interval_schedule_fires_each_tick_once_through_the_outbox():
    schedule = due_at(make_schedule(interval_seconds=60), T0)
    assert fire_due(T0 - timedelta(seconds=1)) == 0
    assert fire_due(T0) == 1
    run = JobRun.objects.get(schedule=schedule)
    assert run.trigger == Trigger.SCHEDULE and run.task_path == "jobs.samples.noop"
    assert run.run_after == T0 and run.status == RunStatus.QUEUED  # dispatched after commit
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + timedelta(seconds=60)
    assert schedule.last_fired_at == T0 and schedule.last_run_id == run.pk
    assert fire_due(T0 + timedelta(seconds=30)) == 0
    assert fire_due(T0 + timedelta(seconds=60)) == 1
    assert fire_times(schedule) == [T0, T0 + timedelta(seconds=60)]


def test_a_run_gets_the_schedules_arguments_queue_and_priority(work):
    schedule = due_at(make_schedule(task_path="jobs.samples.echo", args=[1, "a"], kwargs={"k": 2},
                                    queue="maintenance", priority=60), T0)
    fire_due(T0)
    run = JobRun.objects.get(schedule=schedule)
    assert (run.queue, run.lane, run.priority) == ("maintenance", "high", 60)
    work()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.result == {"args": [1, "a"], "kwargs": {"k": 2}}


def test_a_cron_schedule_fires_at_its_wall_clock_times_in_its_zone():
    schedule = make_schedule(cron="0 9 * * 1-5", timezone="America/New_York")
    schedule.reschedule(now=T0)  # Sunday noon UTC
    assert schedule.next_fire_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    walk(T0, T0 + timedelta(days=7), timedelta(minutes=30))
    assert fire_times(schedule) == [datetime(2026, 11, day, 14, 0, tzinfo=UTC) for day in (2, 3, 4, 5, 6)]


def test_a_disabled_schedule_does_not_fire():
    schedule = due_at(make_schedule(), T0)
    schedule.disable()
    assert fire_due(T0 + timedelta(hours=1)) == 0
    assert not JobRun.objects.exists()


# --- misfires and overlap --------------------------------------------------------------


@pytest.mark.parametrize("policy, expected_minutes", [
    (MisfirePolicy.SKIP, []),
    (MisfirePolicy.RUN_ONCE, [10]),
    (MisfirePolicy.CATCH_UP, [8, 9, 10]),
])
def test_the_misfire_policy_decides_what_a_downtime_costs(policy, expected_minutes, caplog):
    schedule = due_at(make_schedule(misfire_policy=policy, catch_up_limit=3), T0)
    # Down from before T0 until T0 + 10m30s: eleven fire times were missed.
    with caplog.at_level(logging.WARNING, logger="jobs.scheduler"):
        assert fire_due(T0 + timedelta(minutes=10, seconds=30)) == 1
    assert fire_times(schedule) == [T0 + timedelta(minutes=m) for m in expected_minutes]
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + timedelta(minutes=11)
    assert "missed 11 fire time(s)" in caplog.text


def test_a_cron_schedule_catches_up_on_its_most_recent_missed_days():
    schedule = make_schedule(cron="0 3 * * *", timezone="UTC", misfire_policy=MisfirePolicy.CATCH_UP,
                             catch_up_limit=2)
    due_at(schedule, datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    fire_due(datetime(2026, 11, 6, 12, 0, tzinfo=UTC))
    assert fire_times(schedule) == [datetime(2026, 11, d, 3, 0, tzinfo=UTC) for d in (5, 6)]
    schedule.refresh_from_db()
    assert schedule.next_fire_at == datetime(2026, 11, 7, 3, 0, tzinfo=UTC)


def test_ticks_late_by_less_than_the_grace_all_run_whatever_the_policy(settings):
    settings.JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS = 10
    schedule = due_at(make_schedule(interval_seconds=1, misfire_policy=MisfirePolicy.SKIP), T0)
    fire_due(T0 + timedelta(seconds=3.5))  # a stall or a failover, not a downtime
    assert fire_times(schedule) == [T0 + timedelta(seconds=s) for s in range(4)]
    schedule.refresh_from_db()
    assert schedule.next_fire_at == T0 + timedelta(seconds=4)


def test_overlap_skip_waits_for_the_previous_run_to_finish(work, caplog):
    schedule = due_at(make_schedule(overlap_policy=OverlapPolicy.SKIP), T0)
    fire_due(T0)
    first = JobRun.objects.get(schedule=schedule)
    with caplog.at_level(logging.INFO, logger="jobs.scheduler"):
        assert fire_due(T0 + timedelta(minutes=1)) == 1  # advanced, not fired
    assert "previous run is still active" in caplog.text
    schedule.refresh_from_db()
    assert JobRun.objects.filter(schedule=schedule).count() == 1
    assert schedule.next_fire_at == T0 + timedelta(minutes=2)
    assert schedule.last_fired_at == T0 and schedule.last_run_id == first.pk
    work()
    fire_due(T0 + timedelta(minutes=2))
    assert fire_times(schedule) == [T0, T0 + timedelta(minutes=2)]


def test_overlap_allow_fires_while_the_previous_run_is_active():
    schedule = due_at(make_schedule(overlap_policy=OverlapPolicy.ALLOW), T0)
    fire_due(T0)
    fire_due(T0 + timedelta(minutes=1))
    assert JobRun.objects.filter(schedule=schedule, status=RunStatus.QUEUED).count() == 2


def test_a_task_gone_from_the_code_fails_its_run_not_the_scheduler(caplog):
    broken = due_at(make_schedule("broken"), T0)
    Schedule.objects.filter(pk=broken.pk).update(task_path="jobs.samples.gone")
    healthy = due_at(make_schedule("healthy"), T0)
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        assert fire_due(T0) == 2
    assert "could not enqueue jobs.samples.gone" in caplog.text
    assert fire_times(healthy) == [T0] and fire_times(broken) == []
    broken.refresh_from_db()
    assert broken.next_fire_at == T0 + timedelta(minutes=1)  # advanced: it does not fail every tick
