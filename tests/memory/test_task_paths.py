"""Tasks that moved keep working under their former paths, through an upgrade with runs in flight."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jobs import RunStatus
from jobs.definitions import catalog, get_task
from jobs.models import JobRun, Schedule, TaskPolicy
from memory.task_aliases import MOVED_TASKS
from memory.tasks import cleanup_sessions

OLD_PATH = "memory.tasks.maintenance.cleanup_sessions"
NEW_PATH = "memory.lifecycle.tasks.cleanup_sessions"


def test_every_former_task_path_resolves_to_the_moved_task():
    current = {t.module_path: t for t in catalog()}
    for old, new in MOVED_TASKS.items():
        assert old not in current, f"{old} is still a task: drop its alias"
        assert get_task(old) is current[new]


def test_the_migration_moves_the_same_paths_as_the_aliases():
    from importlib import import_module

    migration = import_module("memory.migrations.0005_task_paths")
    assert migration.MOVED_TASKS == MOVED_TASKS


def migrate(target=None):
    """Migrate memory to `target`, or every app to its latest migration (what later tests expect)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_a_run_queued_under_its_former_path_runs_after_the_upgrade(work):
    migrate(("memory", "0004_graph_staleness"))
    try:
        # What the previous release left: a run in Redis, a schedule and a policy under the old path.
        run_id = cleanup_sessions.enqueue().id
        JobRun.objects.filter(pk=run_id).update(task_path=OLD_PATH)
        schedule = Schedule.objects.create(name="sessions", task_path=OLD_PATH, interval_seconds=60)
        policy = TaskPolicy.objects.create(task_path=OLD_PATH, max_attempts=2)
        assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED
    finally:
        migrate()  # 0005_task_paths rewrites the paths; the rest leaves the schema as every other test needs it
    assert JobRun.objects.get(pk=run_id).task_path == NEW_PATH
    schedule.refresh_from_db()
    policy.refresh_from_db()
    assert (schedule.task_path, policy.task_path) == (NEW_PATH, NEW_PATH)

    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.result == {"deleted": 0}


@pytest.mark.django_db(transaction=True)
def test_a_run_stored_under_its_former_path_runs_before_the_migration_reaches_it(work):
    # A worker on the new code may take a run the old code enqueued after the migration ran.
    run_id = cleanup_sessions.enqueue().id
    JobRun.objects.filter(pk=run_id).update(task_path=OLD_PATH)
    work()
    run = JobRun.objects.get(pk=run_id)
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, {"deleted": 0})
