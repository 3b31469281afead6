"""A schedule's fire times: the ones to come, and what firing a due schedule does (its misfire policy)."""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice, takewhile

from django.db import models
from django.utils import timezone as dj_timezone

from ..schedule_times import cron_times, interval_times, parse_zone

# A cron schedule missed for longer than this many fire times is not walked tick by tick: the
# walk jumps to the last day before now (see Schedule.plan).
_MAX_WALK = 100_000


class MisfirePolicy(models.TextChoices):
    SKIP = "skip", "Skip missed fire times"
    RUN_ONCE = "run_once", "Run once for all missed fire times"
    CATCH_UP = "catch_up", "Catch up, at most N missed fire times"


class OverlapPolicy(models.TextChoices):
    SKIP = "skip", "Skip while the previous run is unfinished"
    ALLOW = "allow", "Allow overlapping runs"


@dataclass(frozen=True)
class Firing:
    """What firing a due schedule does: the fire times to run and the schedule's next one."""

    fire_times: list  # nominal fire times to enqueue a run for, oldest first
    due: int  # fire times that had come (at least this many after a very long outage)
    misfired: bool  # the oldest due fire time was later than the grace: the misfire policy decided
    next_fire_at: datetime


class ScheduleTiming:
    """Fire-time methods of Schedule (jobs.models.schedule)."""

    @property
    def zone(self):
        return parse_zone(self.timezone)

    def fire_times(self, after):
        """Yield the fire times strictly after the instant `after`, inside the window (starts_at to
        expires_at): an interval counts from `after` (or fires first at starts_at), a one-off
        time fires once. Finite when the schedule is one-off or has an end."""
        if self.clocked_at is not None:
            times = iter([self.clocked_at] if self.clocked_at > after else [])
        elif self.starts_at is not None and self.starts_at > after:
            if self.interval_seconds:
                times = chain([self.starts_at], interval_times(self.interval_seconds, self.starts_at))
            else:  # a cron tick at exactly starts_at counts
                times = cron_times(self.cron, self.zone, self.starts_at - timedelta(microseconds=1))
        elif self.interval_seconds:
            times = interval_times(self.interval_seconds, after)
        else:
            times = cron_times(self.cron, self.zone, after)
        if self.expires_at is not None:
            times = takewhile(lambda instant: instant <= self.expires_at, times)
        return times

    def upcoming_fire_times(self, count=5, now=None):
        """Return the next `count` fire times after `now`; an interval keeps next_fire_at's phase."""
        now = now or dj_timezone.now()
        start = self.next_fire_at
        if self.interval_seconds and start is not None and start > now and not self._timing_changed():
            return [start, *islice(self.fire_times(start), count - 1)]
        return list(islice(self.fire_times(now), count))

    def plan(self, now, grace):
        """Return what firing at `now` does (a Firing), or None when the schedule is not due."""
        # Fire times no older than `grace` are on time and each gets a run: a stall or a
        # failover loses no tick. When the oldest due one is older, the scheduler was down and
        # the misfire policy decides how many of the missed fire times run.
        first = self.next_fire_at
        if not self.enabled or first is None or first > now:
            return None
        misfired = now - first > timedelta(seconds=grace)
        if not misfired:
            keep = None
        elif self.misfire_policy == MisfirePolicy.SKIP:
            keep = 0
        elif self.misfire_policy == MisfirePolicy.RUN_ONCE:
            keep = 1
        else:
            keep = self.catch_up_limit
        if self.interval_seconds:
            step = timedelta(seconds=self.interval_seconds)
            # Past the window's end nothing more came due.
            until = min(now, self.expires_at) if self.expires_at is not None else now
            due = (until - first) // step + 1  # arithmetic: a long outage costs nothing to skip
            last = first + (due - 1) * step
            kept = due if keep is None else min(keep, due)
            times = [last - n * step for n in reversed(range(kept))]
            following = last + step
            if self.expires_at is not None and following > self.expires_at:
                following = None  # the window is over: advance() disables the schedule
            return Firing(times, due, misfired, following)
        times = deque([first], maxlen=keep)
        due = 1
        upcoming = self.fire_times(first)
        while True:
            # None: a one-off or a windowed schedule has no fire time left.
            instant = next(upcoming, None)
            if instant is None or instant > now:
                return Firing(list(times), due, misfired, instant)
            times.append(instant)
            due += 1
            if due == _MAX_WALK and instant < now - timedelta(days=1):
                # Months of a minutely cron: jump to the last day; the older ones are long stale.
                upcoming = self.fire_times(now - timedelta(days=1))

    def _first_fire_time(self, now, enabled=None):
        if not (self.enabled if enabled is None else enabled):
            return None
        return next(self.fire_times(now), None)
