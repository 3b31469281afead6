"""The scheduler one step at a time: fire times, misfires, overlap, DST, validation, edits, fencing."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.utils import timezone

from jobs import RunStatus, Trigger
from jobs.models import JobRun, MisfirePolicy, OverlapPolicy, Schedule
from jobs.scheduler import Leadership, Scheduler, fire, fire_due
from tests.jobs import factories

pytestmark = pytest.mark.django_db(transaction=True)

# A Sunday in the past: runs carry their fire time as run_after, and a past one delays nothing.
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


def make_schedule(name="tick", **fields):
    """A schedule that fires whatever is still running (overlap is tested on its own)."""
    return factories.make_schedule(name, **{"overlap_policy": OverlapPolicy.ALLOW, **fields})


def due_at(schedule, instant):
    """Put the schedule's next fire time at `instant`."""
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=instant)
    schedule.refresh_from_db()
    return schedule


def fire_times(schedule):
    """The nominal fire time of each run of the schedule, oldest first."""
    return list(JobRun.objects.filter(schedule=schedule).order_by("run_after").values_list("run_after", flat=True))


def walk(start, end, step):
    """Call fire_due at every `step` from `start` to `end`, like a scheduler ticking through time."""
    now = start
    while now <= end:
        fire_due(now)
        now += step


def local(instants, zone=BERLIN):
    from zoneinfo import ZoneInfo

    return [t.astimezone(ZoneInfo(zone)).isoformat() for t in instants]


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


# --- daylight saving time --------------------------------------------------------------


def test_spring_forward_fires_a_missing_wall_time_once_at_the_first_valid_minute():
    # 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
    schedule = make_schedule(cron="30 2 * * *", timezone=BERLIN)
    start = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    assert local(schedule.upcoming_fire_times(4, now=start)) == [
        "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00",
    ]
    schedule.reschedule(now=start)
    walk(start, start + timedelta(days=3), timedelta(minutes=15))
    assert local(fire_times(schedule)) == [
        "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00",
    ]


def test_fall_back_fires_a_repeated_wall_time_once():
    # 2026-10-25 in Berlin: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    schedule = make_schedule(cron="30 2 * * *", timezone=BERLIN)
    start = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)
    schedule.reschedule(now=start)
    walk(start, start + timedelta(days=3), timedelta(minutes=15))
    assert local(fire_times(schedule)) == [
        "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
    ]


def test_an_hourly_cron_skips_the_repeated_hour_and_fills_the_missing_one():
    schedule = make_schedule(cron="30 * * * *", timezone=BERLIN)
    autumn = schedule.upcoming_fire_times(3, now=datetime(2026, 10, 24, 23, 0, tzinfo=UTC))
    assert local(autumn) == ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00"]
    spring = schedule.upcoming_fire_times(3, now=datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert local(spring) == ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"]


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("fields, field", [
    ({"task_path": "jobs.samples.nope"}, "task_path"),
    ({"args": "not a list"}, "args"),
    ({"kwargs": [1]}, "kwargs"),
    ({"args": [1, 2]}, "args"),  # noop takes nothing
    ({"task_path": "jobs.samples.returns_42", "kwargs": {"nope": 1}}, "kwargs"),
    ({"task_path": "jobs.samples.slow_with_progress", "args": [1, 2, 3]}, "args"),  # context comes first
    ({"interval_seconds": None, "cron": "61 * * * *"}, "cron"),
    ({"interval_seconds": None, "cron": "* * * * * *"}, "cron"),  # seconds: use an interval
    ({"interval_seconds": None, "cron": "0 0 31 2 *"}, "cron"),  # never fires
    ({"cron": "0 * * * *"}, NON_FIELD_ERRORS),  # both
    ({"interval_seconds": None}, NON_FIELD_ERRORS),  # neither
    ({"interval_seconds": 0}, "interval_seconds"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"queue": "nowhere"}, "queue"),
    ({"priority": 101}, "priority"),
    ({"misfire_policy": MisfirePolicy.CATCH_UP, "catch_up_limit": 0}, "catch_up_limit"),
])
def test_clean_rejects(fields, field):
    schedule = Schedule(name="bad", **{"task_path": "jobs.samples.noop", "interval_seconds": 60, **fields})
    with pytest.raises(ValidationError) as caught:
        schedule.full_clean()
    assert field in caught.value.message_dict


@pytest.mark.parametrize("fields", [
    {"task_path": "jobs.samples.slow_with_progress", "args": [3], "kwargs": {"delay": 0}},
    {"task_path": "jobs.samples.echo", "args": [1, 2], "kwargs": {"any": "thing"}},
    {"interval_seconds": None, "cron": " @daily ", "timezone": "Asia/Kolkata"},
    {"queue": "maintenance", "priority": -100},
])
def test_clean_accepts(fields):
    Schedule(name="good", **{"task_path": "jobs.samples.noop", "interval_seconds": 60, **fields}).full_clean()


# --- edits take effect on the next tick --------------------------------------------------


def test_a_timing_edit_moves_next_fire_at_and_other_edits_do_not():
    schedule = make_schedule(interval_seconds=3600)
    before = timezone.now()
    schedule.interval_seconds = 5
    schedule.save()
    assert before + timedelta(seconds=5) <= schedule.next_fire_at <= timezone.now() + timedelta(seconds=5)
    moved = schedule.next_fire_at
    schedule.description = "documented"
    schedule.save()
    schedule.refresh_from_db()
    assert schedule.next_fire_at == moved
    schedule.interval_seconds, schedule.cron = None, "0 4 * * *"
    schedule.save()
    assert schedule.next_fire_at.astimezone(UTC).hour == 4
    schedule.enabled = False
    schedule.save()
    assert Schedule.objects.get(pk=schedule.pk).next_fire_at is None
    assert schedule.enable() and schedule.next_fire_at is not None


def test_a_stale_form_save_does_not_undo_a_firing():
    schedule = due_at(make_schedule(), T0)
    in_the_form = Schedule.objects.get(pk=schedule.pk)  # an admin page loaded before the tick
    fire_due(T0)
    in_the_form.description = "edited meanwhile"
    in_the_form.save()
    schedule.refresh_from_db()
    assert schedule.description == "edited meanwhile"
    assert schedule.next_fire_at == T0 + timedelta(minutes=1) and schedule.last_run_id is not None
    fire_due(T0)  # the same tick again: nothing, since the save did not move next_fire_at back
    assert len(fire_times(schedule)) == 1


# --- exactly once: fencing and leadership ------------------------------------------------


def test_a_stale_scheduler_cannot_fire_a_tick_twice():
    schedule = due_at(make_schedule(), T0)
    first, second = Schedule.objects.get(pk=schedule.pk), Schedule.objects.get(pk=schedule.pk)
    assert len(fire(first, T0)) == 1
    assert fire(second, T0) is None  # its next_fire_at is stale: the compare-and-set misses
    assert fire_times(schedule) == [T0]


def test_two_schedulers_firing_at_once_enqueue_one_run():
    schedule = due_at(make_schedule(), T0)
    barrier = threading.Barrier(2)
    outcomes = []

    def fire_in_thread():
        try:
            mine = Schedule.objects.get(pk=schedule.pk)
            barrier.wait()
            outcomes.append(fire(mine, T0))
        finally:
            connection.close()

    threads = [threading.Thread(target=fire_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(outcomes) == 2 and outcomes.count(None) == 1
    assert fire_times(schedule) == [T0]


def test_one_leader_at_a_time_and_a_standby_takes_over_when_it_leaves():
    first, second = Leadership(), Leadership()
    try:
        assert first.acquire() and first.acquire()  # keeps it
        assert not second.acquire()
        first.release()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_a_standby_scheduler_fires_nothing():
    schedule = due_at(make_schedule(), timezone.now() - timedelta(seconds=1))
    leader, standby = Scheduler(), Scheduler()
    try:
        assert leader.step()
        due_at(schedule, timezone.now() - timedelta(seconds=1))
        assert not standby.step()
        assert standby.pause() == standby.tick
        assert len(fire_times(schedule)) == 1
        assert leader.step()
        assert len(fire_times(schedule)) == 2
        assert 0 < leader.pause() <= leader.tick
    finally:
        leader.leadership.release()
        standby.leadership.release()


def test_the_scheduler_step_dispatches_the_outbox(settings):
    from jobs.samples import noop

    settings.JOBS_DISPATCH_GRACE_SECONDS = 0
    run_id = noop.enqueue().id
    JobRun.objects.filter(pk=run_id).update(status=RunStatus.PENDING, status_changed_at=T0)  # a lost hand-off
    scheduler = Scheduler()
    try:
        assert scheduler.step()
    finally:
        scheduler.leadership.release()
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED


def test_a_schedule_written_around_save_gets_a_fire_time_on_the_next_tick():
    Schedule.objects.bulk_create([Schedule(name="bulk", task_path="jobs.samples.noop", interval_seconds=60)])
    fire_due(T0)
    assert Schedule.objects.get(name="bulk").next_fire_at == T0 + timedelta(seconds=60)


def test_a_frozen_leader_is_replaced_within_one_lease_and_fires_nothing_when_it_wakes():
    import time

    schedule = due_at(make_schedule(), timezone.now() - timedelta(seconds=1))
    frozen, standby = Scheduler(leadership=Leadership(seconds=1)), Scheduler(leadership=Leadership(seconds=1))
    try:
        assert frozen.leadership.acquire()
        token = frozen.leadership.token
        assert not standby.step()  # the lease is live: the standby waits
        time.sleep(1.2)  # the leader is frozen (SIGSTOP) past its lease: no renewal
        assert standby.step()  # took the lease over and fired the tick
        assert standby.leadership.token == token + 1
        assert len(fire_times(schedule)) == 1
        due_at(schedule, timezone.now() - timedelta(seconds=1))
        # It wakes in the middle of a step, between renewing and firing: the fence stops it.
        assert fire_due(fence=frozen.leadership) == 0
        assert not frozen.step()  # and at its next step it finds it no longer leads
        assert len(fire_times(schedule)) == 1
        assert standby.step()
        assert len(fire_times(schedule)) == 2
    finally:
        frozen.leadership.release()
        standby.leadership.release()


def test_a_leader_renews_its_lease_while_it_steps():
    import time

    leader, standby = Leadership(seconds=1), Leadership(seconds=1)
    try:
        assert leader.acquire()
        for _ in range(3):
            time.sleep(0.5)
            assert leader.acquire()
            assert not standby.acquire()
    finally:
        leader.release()
        standby.release()


def test_the_current_lease_names_the_leader_and_how_long_ago_it_renewed():
    from jobs.models import SchedulerLease

    leader = Leadership(seconds=5)
    try:
        assert SchedulerLease.current(Leadership.LEASE) is None
        assert leader.acquire()
        holder, age = SchedulerLease.current(Leadership.LEASE)
        assert holder == leader.name and 0 <= age < 1
        leader.release()
        assert SchedulerLease.current(Leadership.LEASE) is None
    finally:
        leader.release()
