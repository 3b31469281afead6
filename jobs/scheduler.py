"""The periodic scheduler: one active process fires due schedules, dispatches and reconciles.

`manage.py jobs scheduler` runs Scheduler.run(). Any number may run; a Postgres session
advisory lock makes exactly one of them active, and the others take over within a tick of its
death. Each firing is also a compare-and-set on the schedule row, so even two processes that
both believed they led could not fire the same tick twice.

Misfires: fire times no older than JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS (default 10) are on
time, and each gets its run, so a short stall or a failover loses no tick. When the oldest due
fire time is older than that, the scheduler was down and the schedule's misfire policy decides:
skip (no run), run once, or catch up (the most recent N missed fire times).

Each scheduled run carries its nominal fire time as `run_after` (already past when it is
enqueued, so it does not delay the run): the ledger shows which tick a run belongs to.
"""

import json
import logging
import os
import socket
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error as DatabaseError, close_old_connections, connections, transaction
from django.db.models import Min
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from redis.exceptions import RedisError

from .context import triggered_by
from .models import OverlapPolicy, Schedule
from .reconcile import reconcile

logger = logging.getLogger("jobs.scheduler")

# pg_try_advisory_lock(int4, int4): "jobs" in ASCII, then the scheduler's own number.
LOCK_KEY = (0x6A6F6273, 1)


def misfire_grace():
    return settings.JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS


def enqueue_run(schedule, fire_time=None, user=None):
    """Enqueue one run of the schedule's task, recorded as triggered by it; return the TaskResult."""
    task = schedule.task_for_run(run_after=fire_time)
    with triggered_by(user=user, schedule=schedule):
        return task.enqueue(*schedule.args, **schedule.kwargs)


def run_now(schedule, user=None):
    """Enqueue a run of the schedule at once, outside its timing; return the TaskResult."""
    with transaction.atomic():
        result = enqueue_run(schedule, user=user)
        schedule.record_run(result.id)
    return result


def fire(schedule, now=None, grace=None):
    """Advance a due schedule and enqueue its runs in one transaction; return the run ids."""
    # None: not due, or another scheduler (or an admin edit) took the tick first.
    now = now or timezone.now()
    firing = schedule.plan(now, misfire_grace() if grace is None else grace)
    if firing is None:
        return None
    expected = schedule.next_fire_at
    with transaction.atomic():
        overlapping = (
            bool(firing.fire_times) and schedule.overlap_policy == OverlapPolicy.SKIP and schedule.has_active_run()
        )
        fires = bool(firing.fire_times) and not overlapping
        # First the compare-and-set: its row lock makes a concurrent firing of this schedule
        # wait for our commit and then match no row; enqueueing before it would be wasted work.
        if not schedule.advance(expected, firing.next_fire_at, fired_at=now if fires else None):
            logger.info("schedule %r: the tick at %s was taken by another scheduler or an edit",
                        schedule.name, expected.isoformat())
            return None
        if firing.misfired:
            logger.warning(
                "schedule %r missed %d fire time(s) since %s; misfire policy %s: %d run(s)",
                schedule.name, firing.due, expected.isoformat(), schedule.misfire_policy, len(firing.fire_times),
            )
        if overlapping:
            logger.info("schedule %r: the previous run is still active; skipping the tick at %s (overlap policy)",
                        schedule.name, firing.fire_times[-1].isoformat())
            return []
        run_ids = []
        for fire_time in firing.fire_times:
            try:
                # A savepoint: a task gone from the code or arguments that no longer fit fail
                # this run, not the tick (which stays advanced, so it does not fail every second).
                with transaction.atomic():
                    run_ids.append(enqueue_run(schedule, fire_time).id)
            except (LookupError, InvalidTask, TypeError, ValueError) as exc:
                logger.error("schedule %r could not enqueue %s: %s", schedule.name, schedule.task_path, exc)
        if run_ids:
            schedule.record_run(run_ids[-1])
    return run_ids


def fire_due(now=None, limit=100):
    """Fire the schedules due at `now`; return how many were fired or advanced."""
    now = now or timezone.now()
    done = 0
    # Rows written around save() (bulk_create, a data migration) have no fire time yet.
    for schedule in Schedule.objects.enabled().filter(next_fire_at__isnull=True)[:limit]:
        try:
            schedule.reschedule(now)
        except ValueError as exc:
            logger.error("schedule %r cannot compute its fire times: %s", schedule.name, exc)
    for schedule in Schedule.objects.due(now).order_by("next_fire_at")[:limit]:
        try:
            if fire(schedule, now) is not None:
                done += 1
        except ValueError as exc:  # a timing saved without clean(): report it, fire the others
            logger.error("schedule %r cannot compute its fire times: %s", schedule.name, exc)
    return done


class Leadership:
    """The scheduler's Postgres session advisory lock, held on a connection of its own."""

    def __init__(self, alias=DEFAULT_DB_ALIAS):
        self.alias = alias
        self.connection = None
        self.held = False

    @property
    def name(self):
        return f"jobs scheduler {socket.gethostname()}:{os.getpid()}"

    def acquire(self):
        """Take the lock, or check that this process still holds it; return whether it leads."""
        try:
            if self.connection is None:
                # Not the working connection: close_old_connections() may recycle that one at
                # any tick, and closing the session is what gives up the lock. (So it needs a
                # session of its own: not through a transaction-pooling PgBouncer.)
                self.connection = connections[self.alias].copy()
            with self.connection.cursor() as cursor:
                if self.held:
                    cursor.execute("SELECT 1")  # the session lives, so the lock is still ours
                else:
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY)
                    self.held = cursor.fetchone()[0]
                    if self.held:  # operators (and tests) find the leader in pg_stat_activity
                        cursor.execute("SELECT set_config('application_name', %s, false)", [self.name[:63]])
        except DatabaseError as exc:
            logger.warning("scheduler lock connection failed: %s", exc)
            self.release()
        return self.held

    def release(self):
        """Give up the lock (by closing its session)."""
        self.held = False
        if self.connection is not None:
            try:
                self.connection.close()
            except DatabaseError:
                pass
            self.connection = None


class Scheduler:
    """Lead or stand by; as leader fire due schedules and dispatch + reconcile the ledger."""

    def __init__(self, tick=1.0, housekeeping=None, leadership=None):
        self.tick = tick
        self.housekeeping = housekeeping or settings.JOBS_HOUSEKEEPING_SECONDS
        self.leadership = leadership or Leadership()
        self.reconciled_at = None

    def step(self, now=None):
        """Lead or stand by; as leader fire due schedules and reconcile; return whether it worked."""
        # `now` sets the schedules' clock (tests); the reconciler keeps the real one.
        leading = self.leadership.held
        if not self.leadership.acquire():
            if leading:
                logger.warning("lost the scheduler lock; standing by")
            return False
        if not leading:
            logger.info("%s is the active scheduler", self.leadership.name)
        worked = fire_due(now) > 0
        if self.reconciled_at is None or time.monotonic() - self.reconciled_at >= self.housekeeping:
            self.reconciled_at = time.monotonic()
            report = reconcile()
            if any(report.values()):
                logger.info("reconcile: %s", json.dumps(report))
                worked = True
        return worked

    def pause(self):
        """Seconds until the next step: up to the soonest fire time, never more than a tick."""
        if not self.leadership.held:
            return self.tick  # a standby retries the lock once a tick
        soonest = Schedule.objects.enabled().aggregate(soonest=Min("next_fire_at"))["soonest"]
        if soonest is None:
            return self.tick
        seconds = (soonest - timezone.now()).total_seconds()
        # Already due after a step means a schedule that cannot fire: do not spin on it.
        return self.tick if seconds <= 0 else min(self.tick, seconds + 0.005)

    def run(self, stop):
        """Step until the threading.Event `stop` is set, then give up the lead."""
        try:
            while not stop.is_set():
                close_old_connections()
                try:
                    self.step()
                    pause = self.pause()
                except (DatabaseError, RedisError) as exc:
                    logger.warning("scheduler step failed: %s", exc)
                    pause = self.tick
                stop.wait(pause)
        finally:
            self.leadership.release()
