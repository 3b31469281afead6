"""Keep memories' embeddings current: skip the unchanged, embed the rest in batches."""

import logging

from memory.conf import memory_settings
from memory.models import Memory
from memory.providers.embeddings import EmbeddingError, get_embedding_provider

logger = logging.getLogger("memory.embedding")


def embed_memories(memory_ids, provider=None, on_batch=None):
    """Embed the memories whose content or model changed; return {success, failed, skipped}.

    A memory is skipped when its stored embedding came from the same content hash and model id,
    or when it no longer exists. A batch the provider refuses counts as failed, the rest go on.
    """
    provider = provider or get_embedding_provider()
    wanted = list(dict.fromkeys(memory_ids))
    memories = list(Memory.objects.filter(pk__in=wanted).only("id", "content", "content_hash", "embedding",
                                                               "embedding_model", "embedded_hash"))
    todo = [m for m in memories if m.needs_embedding(provider.model_id)]
    counts = {"success": 0, "failed": 0, "skipped": len(wanted) - len(todo)}
    batch_size = memory_settings.EMBEDDINGS_BATCH_SIZE
    # Longest first within the call: the provider pads per batch, so similar lengths travel together.
    todo.sort(key=lambda m: len(m.content), reverse=True)
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        try:
            vectors = provider.embed([m.content for m in batch])
        except EmbeddingError as exc:
            logger.warning("embedding batch of %d failed: %s", len(batch), exc)
            counts["failed"] += len(batch)
            continue
        for memory, vector in zip(batch, vectors):
            # The hash read with the content: if the content changes meanwhile, the next run
            # sees a mismatch and embeds again instead of trusting a stale vector.
            memory.embedding, memory.embedding_model, memory.embedded_hash = vector, provider.model_id, memory.content_hash
        Memory.objects.bulk_update(batch, ["embedding", "embedding_model", "embedded_hash"])
        counts["success"] += len(batch)
        if on_batch is not None:
            on_batch(counts["success"] + counts["failed"], len(todo))
    return counts
