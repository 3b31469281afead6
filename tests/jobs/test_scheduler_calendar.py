"""Schedules and the calendar: daylight saving time, validation, and edits that take effect on the next tick."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from jobs.models import MisfirePolicy, Schedule
from jobs.scheduler import fire_due
from tests.jobs.scheduler_steps import BERLIN, T0, due_at, fire_times, local, make_schedule, walk


pytestmark = pytest.mark.django_db(transaction=True)


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
