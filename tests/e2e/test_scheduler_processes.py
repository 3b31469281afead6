"""Two real `manage.py jobs scheduler` processes: every tick fired exactly once, and failover."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs.models import JobRun, OverlapPolicy, Schedule
from jobs.scheduler import Leadership
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def leader_pid():
    """The OS pid of the scheduler holding an unexpired lease (its holder name carries it), or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder FROM jobs_schedulerlease WHERE name = %s AND expires_at > now()",
                       [Leadership.LEASE])
        row = cursor.fetchone()
    if not row or not row[0].startswith("jobs scheduler "):
        return None
    return int(row[0].rsplit(":", 1)[1].split("/")[0])


def fire_times(schedule):
    return list(JobRun.objects.filter(schedule=schedule).order_by("run_after").values_list("run_after", flat=True))


def test_two_schedulers_fire_every_tick_once_and_the_standby_takes_over(processes):
    schedule = Schedule(name="every second", task_path="jobs.samples.noop", interval_seconds=1,
                        overlap_policy=OverlapPolicy.ALLOW)
    schedule.full_clean()
    schedule.save()
    schedulers = {proc.pid: proc for proc in (processes("jobs", "scheduler"), processes("jobs", "scheduler"))}

    leader = wait_for(leader_pid, timeout=30, message="a scheduler to take the lock")
    assert leader in schedulers
    wait_for(lambda: len(fire_times(schedule)) >= 6, timeout=30, message="six ticks under the first leader")

    os.killpg(leader, signal.SIGKILL)
    schedulers[leader].wait(10)
    killed_at, killed_clock = timezone.now(), time.monotonic()
    successor = wait_for(lambda: (pid := leader_pid()) and pid != leader and pid, timeout=10,
                         message="the standby to take the lock")
    assert successor in schedulers and time.monotonic() - killed_clock < 5
    wait_for(lambda: JobRun.objects.filter(schedule=schedule, run_after__gt=killed_at + timedelta(seconds=1))
             .count() >= 4, timeout=20, message="four ticks under the new leader")

    survivor = schedulers[successor]
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(10) == 0  # a clean stop gives the lock up
    times = fire_times(schedule)
    assert len(times) == len(set(times)), "a tick was fired twice"
    gaps = {later - earlier for earlier, later in zip(times, times[1:])}
    assert gaps == {timedelta(seconds=1)}, f"ticks were skipped across the failover: {sorted(gaps)}"
    assert times[-1] > killed_at + timedelta(seconds=1)
    runs = JobRun.objects.filter(schedule=schedule)
    assert all(run.trigger == "schedule" and run.enqueued_at - run.run_after < timedelta(seconds=10) for run in runs)
