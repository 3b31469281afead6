"""Keep chunks' embeddings current: skip unchanged text and model, embed the rest in batches."""

import logging

from django.conf import settings

from ..providers.embeddings import EmbeddingError, get_embedding_provider
from .models import Chunk

logger = logging.getLogger("memory.documents")


def embed_chunks(chunk_ids, provider=None, on_batch=None):
    """Embed the chunks whose text or model changed; return {success, failed, skipped}."""
    provider = provider or get_embedding_provider()
    wanted = list(dict.fromkeys(chunk_ids))
    chunks = list(Chunk.objects.filter(pk__in=wanted).only("id", "text", "text_hash", "embedding", "embedding_model",
                                                          "embedded_hash"))
    todo = [c for c in chunks if c.needs_embedding(provider.model_id)]
    counts = {"success": 0, "failed": 0, "skipped": len(wanted) - len(todo)}
    batch_size = settings.MEMORY_EMBEDDINGS_BATCH_SIZE
    todo.sort(key=lambda c: len(c.text), reverse=True)  # similar lengths share a batch's padding
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        try:
            vectors = provider.embed([c.text for c in batch])
        except EmbeddingError as exc:
            logger.warning("embedding batch of %d chunks failed: %s", len(batch), exc)
            counts["failed"] += len(batch)
            continue
        for chunk, vector in zip(batch, vectors):
            chunk.embedding, chunk.embedding_model, chunk.embedded_hash = vector, provider.model_id, chunk.text_hash
        Chunk.objects.bulk_update(batch, ["embedding", "embedding_model", "embedded_hash"])
        counts["success"] += len(batch)
        if on_batch is not None:
            on_batch(counts["success"] + counts["failed"], len(todo))
    return counts
