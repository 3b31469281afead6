"""One-off (clocked) schedules and the start/expiry window, fired one step at a time."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.models import Schedule
from jobs.scheduler import fire_due
from tests.jobs.scheduler_steps import T0, fire_times, make_schedule, walk

pytestmark = pytest.mark.django_db(transaction=True)


def make(name="window", **fields):
    return make_schedule(name, **fields)


def test_a_one_off_schedule_fires_once_then_disables_itself():
    at = timezone.now() + timedelta(hours=1)
    schedule = make(interval_seconds=None, clocked_at=at)
    assert schedule.next_fire_at == at and schedule.upcoming_fire_times(5) == [at]
    assert schedule.timing_display.startswith("once at ")
    walk(at - timedelta(minutes=2), at + timedelta(minutes=5), timedelta(minutes=1))
    assert fire_times(schedule) == [at]
    schedule.refresh_from_db()
    assert not schedule.enabled and schedule.next_fire_at is None


def test_an_interval_waits_for_its_start_and_stops_at_its_end():
    start = timezone.now() + timedelta(hours=1)
    schedule = make(interval_seconds=600, starts_at=start, expires_at=start + timedelta(minutes=25))
    assert schedule.next_fire_at == start
    assert schedule.upcoming_fire_times(5) == [start, start + timedelta(minutes=10), start + timedelta(minutes=20)]
    walk(start - timedelta(minutes=30), start + timedelta(hours=1), timedelta(minutes=1))
    assert fire_times(schedule) == [start, start + timedelta(minutes=10), start + timedelta(minutes=20)]
    schedule.refresh_from_db()
    assert not schedule.enabled and schedule.next_fire_at is None


def test_a_long_outage_past_the_end_fires_only_what_the_window_held():
    start = timezone.now() + timedelta(hours=1)
    schedule = make(interval_seconds=600, starts_at=start, expires_at=start + timedelta(minutes=25),
                    misfire_policy="catch_up", catch_up_limit=10)
    fire_due(start + timedelta(days=2))  # the scheduler was down the whole window and more
    assert fire_times(schedule) == [start, start + timedelta(minutes=10), start + timedelta(minutes=20)]
    schedule.refresh_from_db()
    assert not schedule.enabled


def test_a_cron_in_a_window_fires_on_its_ticks_inside_it_only():
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    schedule = make(interval_seconds=None, cron="0 * * * *", starts_at=start, expires_at=start + timedelta(hours=2))
    assert schedule.upcoming_fire_times(5) == [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    walk(start - timedelta(hours=1), start + timedelta(hours=4), timedelta(minutes=30))
    assert fire_times(schedule) == [start, start + timedelta(hours=1), start + timedelta(hours=2)]


@pytest.mark.parametrize("fields, field", [
    ({"interval_seconds": 60, "clocked_at": T0 + timedelta(days=3650)}, "__all__"),
    ({"interval_seconds": None, "clocked_at": T0}, "clocked_at"),  # in the past
    ({"starts_at": T0 + timedelta(days=3650), "expires_at": T0 + timedelta(days=3649)}, "expires_at"),
    ({"expires_at": T0}, "expires_at"),  # already over
    ({"interval_seconds": None, "clocked_at": T0 + timedelta(days=3650), "expires_at": T0 + timedelta(days=3000)},
     "clocked_at"),
])
def test_clean_explains_a_bad_timing_or_window(fields, field):
    schedule = Schedule(name="bad", task_path="jobs.samples.noop", interval_seconds=60)
    for name, value in fields.items():
        setattr(schedule, name, value)
    with pytest.raises(ValidationError) as caught:
        schedule.full_clean()
    assert field in caught.value.message_dict
    text = " ".join(sum(caught.value.message_dict.values(), []))
    assert "jobs_schedule_" not in text  # a sentence, never a constraint's name


def test_the_database_enforces_one_timing_and_an_ordered_window():
    with pytest.raises(IntegrityError), transaction.atomic():
        Schedule.objects.bulk_create([Schedule(name="two", task_path="jobs.samples.noop", interval_seconds=5,
                                               clocked_at=T0)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Schedule.objects.bulk_create([Schedule(name="order", task_path="jobs.samples.noop", interval_seconds=5,
                                               starts_at=T0, expires_at=T0)])
