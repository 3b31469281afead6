"""Enrichment of new and changed memories: topics and embeddings."""

from django.tasks import task

from jobs import HIGH_PRIORITY, RetryPolicy

from memory.models import Memory
from memory.providers.embeddings import EmbeddingError
from memory.enrichment import embedding
from memory.enrichment import topic_extraction as topics


# No unique key on these two: a run already going may have read the old content, and a change
# must get its own run. Duplicates are cheap (topics are replaced, unchanged embeddings skipped).
@task(queue_name="topics", priority=HIGH_PRIORITY, retry=RetryPolicy(max_attempts=3, delays=(60, 300, 1800)),
      kind="enrichment")
def extract_topics(memory_id):
    """Set a memory's topics from its keyphrases."""
    memory = Memory.objects.filter(pk=memory_id).select_related("project").first()
    if memory is None:
        return {"skipped": "missing"}
    return {"topics": topics.assign_topics(memory)}


@task(queue_name="embeddings", priority=HIGH_PRIORITY, retry=RetryPolicy.linear(3, 60, cap=60),
      kind="enrichment")
def update_embeddings(memory_id):
    """Embed one memory unless its content hash and model are unchanged."""
    counts = embedding.embed_memories([memory_id])
    if counts["failed"]:
        raise EmbeddingError(f"the embedding provider failed for memory {memory_id}")  # retried
    return counts


@task(queue_name="embeddings", priority=HIGH_PRIORITY, retry=RetryPolicy.linear(3, 60, cap=60),
      takes_context=True, kind="enrichment")
def embed_batch(context, memory_ids):
    """Embed many memories; return {success, failed, skipped}."""
    return embedding.embed_memories(
        memory_ids, on_batch=lambda done, total: context.report_progress(done, total, f"{done} of {total} embedded"),
    )
