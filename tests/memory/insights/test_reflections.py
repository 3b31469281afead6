"""Reflections from a project's recent episodic memories, chained through a real worker."""

import pytest

from jobs import RunStatus
from jobs.models import JobRun
from memory.models import Layer, Reflection
from memory.tasks import schedule_reflections
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = [
    "The nightly backup of the billing database failed again because the disk was full.",
    "We should move the backups to object storage before the end of the month.",
    "Alice found that the invoice exporter retries forever when the disk is full.",
    "Bob needs to add an alert on free disk space for the database hosts.",
    "Customers asked for invoices in PDF as well as CSV.",
]


def test_projects_with_new_episodic_memories_get_a_reflection_linked_to_its_sources(work):
    busy = make_project(make_workspace("busy"))
    quiet = make_project(make_workspace("quiet"))
    memories = [make_memory(busy, text, layer=Layer.EPISODIC) for text in NOTES]
    make_memory(quiet, "a semantic fact, not an episode", layer=Layer.SEMANTIC)
    parent_id = schedule_reflections.enqueue().id
    work()
    parent = JobRun.objects.get(pk=parent_id)
    assert parent.status == RunStatus.SUCCEEDED and parent.result == {"projects": [busy.pk]}
    child = JobRun.objects.get(parent_id=parent_id)
    assert child.status == RunStatus.SUCCEEDED and child.root_id == parent.pk
    reflection = Reflection.objects.get()
    assert reflection.project == busy and reflection.summary
    assert reflection.suggested_actions  # "should move the backups", "needs to add an alert"
    assert set(reflection.source_memories.all()) == set(memories)
    # Nothing new since: the next pass reflects on nothing.
    schedule_reflections.enqueue()
    work()
    assert Reflection.objects.count() == 1


def test_rebuild_context_cache_refreshes_every_session_of_the_project(work):
    from memory.models import Session
    from memory.tasks import rebuild_context_cache

    project = make_project(make_workspace("ctx"))
    make_memory(project, "The deploy runbook lives in the wiki.")
    sessions = [Session.objects.create(workspace=project.workspace, project=project) for _ in range(3)]
    run_id = rebuild_context_cache.enqueue(project.pk).id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.result == {"sessions": 3}
    assert (run.progress_done, run.progress_total) == (3, 3)
    for session in sessions:
        session.refresh_from_db()
        assert [m["content"] for m in session.context_cache["memories"]] == ["The deploy runbook lives in the wiki."]
