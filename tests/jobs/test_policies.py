"""Admin overrides of a task's policy reach new runs; a paused task's runs wait in the outbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.dispatch import dispatch_pending
from jobs.models import JobRun, TaskPolicy
from jobs.samples import always_fails, noop

pytestmark = pytest.mark.django_db(transaction=True)


def test_overrides_apply_to_new_runs_only():
    before = JobRun.objects.get(pk=always_fails.enqueue().id)
    TaskPolicy.objects.create(task_path=always_fails.module_path, max_attempts=5, backoff="fixed",
                              backoff_base=7, soft_time_limit=30, hard_time_limit=60, priority=80)
    after = JobRun.objects.get(pk=always_fails.enqueue().id)
    assert before.max_attempts == 3 and before.lane == "normal"
    assert after.max_attempts == 5 and after.lane == "high" and after.priority == 80
    assert (after.soft_time_limit, after.hard_time_limit) == (30, 60)
    assert after.policy.delay(1) == 7 and after.policy.delay(2) == 7


def test_a_paused_task_waits_in_the_outbox_until_resumed():
    policy = TaskPolicy.objects.create(task_path=noop.module_path, paused=True)
    run_id = noop.enqueue().id
    later = timezone.now() + timedelta(minutes=5)
    assert JobRun.objects.get(pk=run_id).status == RunStatus.PENDING
    assert dispatch_pending(now=later) == 0
    policy.paused = False
    policy.save()
    assert dispatch_pending(now=later) == 1
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED
