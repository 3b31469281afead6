"""Topics and embeddings of new and changed memories, through real workers and the real model."""

import numpy as np
import pytest

from jobs import RunStatus
from jobs.models import JobRun
from memory.models import Memory, Topic
from memory.providers.embeddings import get_embedding_provider
from memory.enrichment.embedding import embed_memories
from memory.core.recording import change_memory, record_memory
from memory.enrichment.tasks import embed_batch
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "We moved the billing service to PostgreSQL and planned the schema migration for the invoices table."


def test_a_recorded_memory_gets_topics_and_an_embedding_through_the_jobs(work):
    project = make_project(make_workspace())
    memory = record_memory(project, TEXT)
    work()
    runs = {r.task_path.rsplit(".", 1)[1]: r for r in JobRun.objects.all()}
    assert runs["extract_topics"].status == RunStatus.SUCCEEDED
    assert runs["update_embeddings"].status == RunStatus.SUCCEEDED
    assert runs["extract_topics"].rq_queue_name == "topics.high"
    assert runs["update_embeddings"].result == {"success": 1, "failed": 0, "skipped": 0}
    memory.refresh_from_db()
    names = list(memory.topics.values_list("name", flat=True))
    assert names and all(name in memory.content for name in names)
    vector = np.array(memory.embedding)
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1) < 1e-3
    assert memory.embedding_model == get_embedding_provider().model_id


def test_multi_word_topics_hang_under_their_head_word():
    from memory.enrichment.topic_extraction import assign_topics

    project = make_project(make_workspace())
    memory = make_memory(project, TEXT)
    assign_topics(memory)
    for topic in memory.topics.exclude(parent=None):
        assert topic.name.split()[-1] == topic.parent.name and topic.parent.name in memory.content
        assert topic in Topic.objects.subtree(topic.parent)


def test_unchanged_memories_are_skipped_and_a_content_change_re_embeds(work):
    project = make_project(make_workspace())
    memory = record_memory(project, "first version of the note")
    work()
    assert embed_memories([memory.pk]) == {"success": 0, "failed": 0, "skipped": 1}
    before = np.array(Memory.objects.get(pk=memory.pk).embedding)
    change_memory(memory, content="a completely different second version")
    work()
    after = np.array(Memory.objects.get(pk=memory.pk).embedding)
    assert float(before @ after) < 0.99
    assert JobRun.objects.filter(task_path__endswith="update_embeddings", status=RunStatus.SUCCEEDED).count() == 2


def test_a_batch_reports_success_failed_and_skipped(work):
    project = make_project(make_workspace())
    ids = [make_memory(project, f"note number {i} about topic {i % 3}").pk for i in range(40)]
    embed_memories(ids[:5])
    run_id = embed_batch.enqueue(ids + [999_999]).id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.result == {"success": 35, "failed": 0, "skipped": 6}
    assert (run.progress_done, run.progress_total) == (35, 35)


def test_a_failing_provider_counts_the_batch_as_failed():
    from memory.providers.embeddings import EmbeddingError

    class Refusing:
        model_id, dimensions = "refusing", 384

        def embed(self, texts):
            raise EmbeddingError("server said no")

    memory = make_memory(make_project(make_workspace()), "text")
    assert embed_memories([memory.pk], provider=Refusing()) == {"success": 0, "failed": 1, "skipped": 0}


def test_a_name_is_a_topic_of_its_own_not_a_kind_of_its_last_word():
    from memory.enrichment.topic_extraction import assign_topics

    memory = make_memory(make_project(make_workspace()), "Alice Chen leads the Platform team at Acme Corp.")
    names = assign_topics(memory)
    assert {"Alice Chen", "Acme Corp", "Platform team"} <= set(names)
    assert not {"Alice Chen leads", "Chen leads"} & set(names)
    topics = {topic.name: topic for topic in memory.topics.select_related("parent")}
    assert topics["Alice Chen"].parent is None and topics["Acme Corp"].parent is None
    assert topics["Platform team"].parent.name == "team"
    assert not Topic.objects.filter(name__in=["Chen", "Corp"]).exists()
