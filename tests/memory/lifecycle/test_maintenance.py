"""Decay, retention and session clean-up: services directly, tasks through a real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.defaults import seed_schedules
from jobs.models import JobRun, Schedule
from memory.models import Layer, Memory, Session
from memory.lifecycle.decay import apply_decay
from memory.lifecycle.retention import cleanup_sessions, prune_old_memories
from memory.tasks import apply_memory_decay
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

T0 = timezone.now().replace(microsecond=0)


def memory_at(project, layer, strength=1.0, **fields):
    return make_memory(project, f"{layer} memory", layer=layer, strength=strength, strength_updated_at=T0, **fields)


def test_decay_does_not_depend_on_how_often_it_runs(settings):
    settings.MEMORY_DECAY_RATES = {Layer.EPISODIC: 0.9}
    project = make_project(make_workspace())
    daily = memory_at(project, Layer.EPISODIC)
    for day in range(1, 11):
        apply_decay(now=T0 + timedelta(days=day))
    daily.refresh_from_db()
    once = memory_at(project, Layer.EPISODIC)
    Memory.objects.filter(pk=once.pk).update(strength_updated_at=T0)
    apply_decay(now=T0 + timedelta(days=10))
    once.refresh_from_db()
    assert daily.strength == pytest.approx(0.9 ** 10, rel=1e-9)
    assert once.strength == pytest.approx(daily.strength, rel=1e-9)


def test_reflective_memories_keep_their_strength_and_the_floor_holds(settings):
    settings.MEMORY_DECAY_RATES = {Layer.EPISODIC: 0.5}
    project = make_project(make_workspace())
    reflective = memory_at(project, Layer.REFLECTIVE, strength=0.8)
    episodic = memory_at(project, Layer.EPISODIC)
    faint = memory_at(project, Layer.EPISODIC, strength=0.01)
    apply_decay(now=T0 + timedelta(days=60), floor=0.05)
    for memory in (reflective, episodic, faint):
        memory.refresh_from_db()
    assert reflective.strength == 0.8
    assert episodic.strength == 0.05  # 0.5 ** 60 is far below the floor
    assert faint.strength == 0.01  # already below the floor: never raised


def test_decay_deletes_expired_memories_and_returns_both_counts():
    project = make_project(make_workspace())
    memory_at(project, Layer.EPISODIC)
    memory_at(project, Layer.SEMANTIC, expires_at=T0 + timedelta(hours=1))
    result = apply_decay(now=T0 + timedelta(days=1))
    assert result == {"decayed": 1, "deleted": 1}
    assert Memory.objects.count() == 1


def test_prune_touches_only_old_episodic_memories_and_zero_turns_it_off():
    project = make_project(make_workspace())
    old = make_memory(project, "old episode", layer=Layer.EPISODIC, created_at=T0 - timedelta(days=100))
    make_memory(project, "old fact", layer=Layer.SEMANTIC, created_at=T0 - timedelta(days=100))
    make_memory(project, "new episode", layer=Layer.EPISODIC, created_at=T0)
    assert prune_old_memories(days=0, now=T0) == 0
    assert prune_old_memories(days=30, now=T0) == 1
    assert not Memory.objects.filter(pk=old.pk).exists() and Memory.objects.count() == 2


def test_idle_sessions_are_cleaned_up():
    project = make_project(make_workspace())
    Session.objects.create(workspace=project.workspace, project=project, last_active_at=T0 - timedelta(days=40))
    fresh = Session.objects.create(workspace=project.workspace, project=project, last_active_at=T0)
    assert cleanup_sessions(idle_days=30, now=T0) == 1
    assert list(Session.objects.all()) == [fresh]


def test_the_decay_task_runs_through_a_real_worker(work):
    project = make_project(make_workspace())
    memory_at(project, Layer.EPISODIC)
    run_id = apply_memory_decay.enqueue().id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.rq_queue_name == "memory.low"
    assert run.result == {"decayed": 1, "deleted": 0}


def test_the_memory_schedules_are_seeded_with_the_platforms():
    created = seed_schedules()
    assert {"memory: apply decay", "memory: prune old episodic memories", "memory: clean up sessions",
            "jobs: purge old runs"} <= set(created)
    assert Schedule.objects.get(name="memory: apply decay").cron == "0 2 * * *"
