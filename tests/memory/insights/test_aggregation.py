"""Aggregation of a day's recurring episodes into a semantic memory, through a real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun
from memory.models import Layer, Memory
from memory.enrichment.embedding import embed_memories
from memory.tasks import aggregate_memory
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

BACKUP_EPISODES = [
    "The nightly database backup failed because the disk was full.",
    "Database backup failed again last night: no space left on the disk.",
    "Another failed nightly backup of the database, the volume is full.",
]


def test_recurring_episodes_of_yesterday_become_one_semantic_memory(work):
    project = make_project(make_workspace())
    yesterday = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    episodes = [make_memory(project, text, layer=Layer.EPISODIC, created_at=yesterday) for text in BACKUP_EPISODES]
    lone = make_memory(project, "We ordered pizza for the team lunch.", layer=Layer.EPISODIC, created_at=yesterday)
    embed_memories([m.pk for m in [*episodes, lone]])
    run_id = aggregate_memory.enqueue().id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.result == {"projects": 1, "created": 1}
    semantic = Memory.objects.get(layer=Layer.SEMANTIC)
    assert sorted(semantic.metadata["aggregated_from"]) == sorted(m.pk for m in episodes)
    assert "backup" in semantic.content.lower()
    assert "aggregated_into" not in Memory.objects.get(pk=lone.pk).metadata
    # Aggregated episodes are not aggregated twice.
    aggregate_memory.enqueue()
    work()
    assert Memory.objects.filter(layer=Layer.SEMANTIC).count() == 1
