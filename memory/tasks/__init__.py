"""The memory job catalog: thin tasks (ids in, a service call, progress out)."""

from .enrichment import embed_batch, extract_topics, update_embeddings
from .maintenance import apply_memory_decay, cleanup_sessions, prune_old_memories

__all__ = [
    "apply_memory_decay", "cleanup_sessions", "embed_batch", "extract_topics", "prune_old_memories",
    "update_embeddings",
]
