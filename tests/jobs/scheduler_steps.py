"""Helpers of the scheduler's tests (test_scheduler_firing, test_scheduler_calendar,
test_scheduler_leadership): a schedule due at a given instant, its runs' fire times, ticking through time.
"""

from datetime import UTC, datetime

from jobs.models import JobRun, OverlapPolicy, Schedule
from jobs.scheduler import fire_due
from tests.jobs import factories


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
