"""Fire times of schedules: intervals in UTC, cron expressions on a time zone's wall clock.

Cron expressions are read on the local wall clock and each wall time is then mapped to one
instant, the way cronie handles daylight saving time:

- a wall time that does not exist (spring forward: 02:30 on the day the clocks jump from 02:00
  to 03:00) fires once at the first wall minute that exists (03:00);
- a wall time that happens twice (fall back: 02:30 on the day the clocks go from 03:00 back to
  02:00) fires once, at its first occurrence; the repeated hour does not fire again.

croniter over zone-aware datetimes gets the first case right but fires twice in the repeated
hour, hence the wall-clock iteration here.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

# Enough for any real transition (the largest jumps are a day, at the date line): past it a
# wall time is not "in a gap" but something is wrong with the zone data.
_MAX_GAP_MINUTES = 26 * 60


def parse_zone(name):
    """Return the ZoneInfo called `name`, or raise ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def validate_cron(expression):
    """Raise ValueError unless `expression` is a five-field cron expression (or an @alias)."""
    expression = (expression or "").strip()
    if not expression:
        raise ValueError("empty cron expression")
    # Six fields would be croniter's seconds extension: sub-minute crons belong in an interval.
    if not expression.startswith("@") and len(expression.split()) != 5:
        raise ValueError(f"{expression!r} is not a five-field cron expression (minute hour day month weekday)")
    if not croniter.is_valid(expression):
        raise ValueError(f"{expression!r} is not a valid cron expression")
    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"{expression!r} never fires") from None


def wall_to_instant(wall, zone):
    """Map a naive local wall time to its UTC instant (first occurrence; first valid minute)."""
    for _ in range(_MAX_GAP_MINUTES + 1):
        # fold=0 is the earlier of two occurrences when the wall time happens twice.
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant
        wall = wall.replace(second=0, microsecond=0) + timedelta(minutes=1)
    raise ValueError(f"no valid wall time near {wall} in {zone}")


def cron_times(expression, zone, after):
    """Yield the cron expression's fire times strictly after the instant `after`, in UTC."""
    wall = after.astimezone(zone).replace(tzinfo=None)
    wall_times = croniter(expression.strip(), wall)
    last = after
    while True:
        instant = wall_to_instant(wall_times.get_next(datetime), zone)
        # Several wall times in a gap map to one instant, and a start inside a repeated hour
        # meets instants already behind it: keep the sequence strictly increasing.
        if instant > last:
            last = instant
            yield instant


def interval_times(seconds, after):
    """Yield after + n * seconds for n = 1, 2, ..."""
    step = timedelta(seconds=seconds)
    instant = after
    while True:
        instant += step
        yield instant
