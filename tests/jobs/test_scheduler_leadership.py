"""Exactly once: fencing of stale schedulers, one leader at a time, standbys, leases and the outbox step."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun, Schedule
from jobs.scheduler import Leadership, Scheduler, fire, fire_due
from tests.jobs.scheduler_steps import T0, due_at, fire_times, make_schedule


pytestmark = pytest.mark.django_db(transaction=True)


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
