"""The memory job catalog: thin tasks (ids in, a service call, progress out), from each capability package."""

from memory.enrichment.tasks import embed_batch, extract_topics, update_embeddings
from memory.graph.tasks import (
    detect_communities,
    extract_graph_lazy,
    process_graph_extraction_queue,
    resolve_entities_batch,
    resolve_entities_weekly,
    update_graph_batch,
)
from memory.insights.tasks import (
    aggregate_memory,
    analyze_decision,
    detect_anomalies,
    generate_reflection_for_project,
    schedule_reflections,
)
from memory.lifecycle.tasks import apply_memory_decay, cleanup_sessions, prune_old_memories
from memory.sessions.tasks import rebuild_context_cache
from memory.chats.tasks import *  # noqa: F401,F403  (chats: ingest_telegram_export, score_message, ...)

__all__ = [
    "aggregate_memory",
    "analyze_decision",
    "apply_memory_decay",
    "cleanup_sessions",
    "detect_anomalies",
    "detect_communities",
    "embed_batch",
    "extract_graph_lazy",
    "extract_topics",
    "generate_reflection_for_project",
    "process_graph_extraction_queue",
    "prune_old_memories",
    "rebuild_context_cache",
    "resolve_entities_batch",
    "resolve_entities_weekly",
    "schedule_reflections",
    "update_embeddings",
    "update_graph_batch",
]
from memory.documents.tasks import *  # noqa: F401,F403  (documents: process_document, chunk_document, ...)
from memory.posts.tasks import *  # noqa: F401,F403  (posts: tag_post, persist_tags, enrich_post, ...)
