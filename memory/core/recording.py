"""Create and change memories; each change enqueues its enrichment jobs after commit."""

from django.db import transaction

from memory.enrichment.tasks import extract_topics, update_embeddings
from memory.models import Memory


def enqueue_enrichment(memory):
    """Enqueue topic extraction and embedding for a memory (dispatched when the transaction commits)."""
    extract_topics.enqueue(memory.pk)
    update_embeddings.enqueue(memory.pk)


def record_memory(project, content, **fields):
    """Store a memory in `project` and enqueue its enrichment; return it."""
    with transaction.atomic():
        memory = Memory.objects.create(workspace_id=project.workspace_id, project=project, content=content, **fields)
        enqueue_enrichment(memory)
    return memory


def change_memory(memory, **fields):
    """Update fields of a memory; a content change enqueues enrichment again.

    A content change also leaves the memory's graph stale: save() renews content_hash, which then
    differs from graph_extracted_hash, and update_graph_batch re-extracts it and replaces its
    relations. No job is enqueued per edit: a memory edited five times in a minute is read once.
    """
    content_changed = "content" in fields and fields["content"] != memory.content
    with transaction.atomic():
        for name, value in fields.items():
            setattr(memory, name, value)
        memory.save(update_fields=[*fields, "updated_at"])
        if content_changed:
            enqueue_enrichment(memory)
    return memory
