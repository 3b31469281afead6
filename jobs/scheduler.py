"""The periodic scheduler: one active process fires due schedules, dispatches and reconciles.

`manage.py jobs scheduler` runs Scheduler.run(). Any number may run; a lease in Postgres
(JOBS_SCHEDULER_LEASE_SECONDS, renewed every tick) makes one of them active, and a standby
takes over within one lease of the leader's death or freeze. The lease carries a fencing
token that every firing checks inside its transaction, so a frozen leader that wakes up fires
nothing; and each firing is also a compare-and-set on the schedule row, so even two processes
that both believed they led could not fire the same tick twice.

Misfires: fire times no older than JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS (default 10) are on
time, and each gets its run, so a short stall or a failover loses no tick. When the oldest due
fire time is older than that, the scheduler was down and the schedule's misfire policy decides:
skip (no run), run once, or catch up (the most recent N missed fire times).

Each scheduled run carries its nominal fire time as `run_after` (already past when it is
enqueued, so it does not delay the run): the ledger shows which tick a run belongs to.
"""

import itertools
import json
import logging
import os
import socket
import time

from django.db import Error as DatabaseError, close_old_connections, transaction
from django.db.models import Min
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from redis.exceptions import RedisError

from .conf import jobs_settings
from .context import triggered_by
from .models import OverlapPolicy, Schedule
from .reconcile import reconcile

logger = logging.getLogger("jobs.scheduler")

def misfire_grace():
    return jobs_settings.SCHEDULER_MISFIRE_GRACE_SECONDS


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


def fire(schedule, now=None, grace=None, fence=None):
    """Advance a due schedule and enqueue its runs in one transaction; return the run ids.

    `fence` (the firing scheduler's Leadership) is checked inside that transaction: a leader
    that lost its lease while frozen fires nothing when it wakes.
    """
    # None: not due, or another scheduler (or an admin edit) took the tick first.
    now = now or timezone.now()
    firing = schedule.plan(now, misfire_grace() if grace is None else grace)
    if firing is None:
        return None
    expected = schedule.next_fire_at
    with transaction.atomic():
        if fence is not None and not fence.still_holds():
            logger.warning("schedule %r: not fired, this scheduler's lease expired (another one leads now)",
                           schedule.name)
            return None
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


def fire_due(now=None, limit=100, fence=None):
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
            if fire(schedule, now, fence=fence) is not None:
                done += 1
        except ValueError as exc:  # a timing saved without clean(): report it, fire the others
            logger.error("schedule %r cannot compute its fire times: %s", schedule.name, exc)
    return done


class Leadership:
    """The scheduler's lease (jobs.models.SchedulerLease): renewed every tick, fenced by a token."""

    LEASE = "scheduler"
    _count = itertools.count(1)

    def __init__(self, seconds=None):
        self.seconds = seconds
        self.token = None
        # Unique per object: tests run two in one process; operators read host and pid.
        self.name = f"jobs scheduler {socket.gethostname()}:{os.getpid()}/{next(self._count)}"

    @property
    def held(self):
        return self.token is not None

    def acquire(self):
        """Renew the lease, or take it if it is free or expired; return whether this process leads."""
        from .models import SchedulerLease

        seconds = self.seconds or jobs_settings.SCHEDULER_LEASE_SECONDS
        try:
            self.token = SchedulerLease.acquire(self.LEASE, self.name, self.token, seconds)
        except DatabaseError as exc:
            logger.warning("scheduler lease: cannot reach the database: %s", exc)
            self.token = None
        return self.held

    def still_holds(self):
        """The fencing check a firing makes inside its transaction (locks the lease until commit)."""
        from .models import SchedulerLease

        return self.token is not None and SchedulerLease.holds(self.LEASE, self.name, self.token)

    def release(self):
        """Give the lease up now, so a standby takes over at its next tick."""
        from .models import SchedulerLease

        token, self.token = self.token, None
        if token is not None:
            try:
                SchedulerLease.give_up(self.LEASE, self.name, token)
            except DatabaseError as exc:  # it expires on its own
                logger.warning("scheduler lease: cannot give it up: %s", exc)


class Scheduler:
    """Lead or stand by; as leader fire due schedules and dispatch + reconcile the ledger."""

    def __init__(self, tick=1.0, housekeeping=None, leadership=None):
        self.tick = tick
        self.housekeeping = housekeeping or jobs_settings.HOUSEKEEPING_SECONDS
        self.leadership = leadership or Leadership()
        self.reconciled_at = None

    def step(self, now=None):
        """Lead or stand by; as leader fire due schedules and reconcile; return whether it worked."""
        # `now` sets the schedules' clock (tests); the reconciler keeps the real one.
        leading = self.leadership.held
        if not self.leadership.acquire():
            if leading:
                logger.warning("lost the scheduler lease; standing by")
            return False
        if not leading:
            logger.info("%s is the active scheduler", self.leadership.name)
        worked = fire_due(now, fence=self.leadership) > 0
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
            return self.tick  # a standby tries the lease once a tick
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
