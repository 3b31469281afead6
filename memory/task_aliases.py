"""Former dotted paths of memory tasks that moved, to their current paths.

Runs, schedules and task policies store a task's path. Migration 0005_task_paths rewrites the
stored ones; MemoryConfig.ready() registers this map with the job platform so a run queued under
a former path before an upgrade (its id already in Redis) still finds its task.
"""

MOVED_TASKS = {
    "memory.tasks.enrichment.extract_topics": "memory.enrichment.tasks.extract_topics",
    "memory.tasks.enrichment.update_embeddings": "memory.enrichment.tasks.update_embeddings",
    "memory.tasks.enrichment.embed_batch": "memory.enrichment.tasks.embed_batch",
    "memory.tasks.graph.detect_communities": "memory.graph.tasks.detect_communities",
    "memory.tasks.graph.extract_graph_lazy": "memory.graph.tasks.extract_graph_lazy",
    "memory.tasks.graph.process_graph_extraction_queue": "memory.graph.tasks.process_graph_extraction_queue",
    "memory.tasks.graph.resolve_entities_batch": "memory.graph.tasks.resolve_entities_batch",
    "memory.tasks.graph.resolve_entities_weekly": "memory.graph.tasks.resolve_entities_weekly",
    "memory.tasks.graph.update_graph_batch": "memory.graph.tasks.update_graph_batch",
    "memory.tasks.analysis.analyze_decision": "memory.insights.tasks.analyze_decision",
    "memory.tasks.analysis.detect_anomalies": "memory.insights.tasks.detect_anomalies",
    "memory.tasks.reflection.generate_reflection_for_project": "memory.insights.tasks.generate_reflection_for_project",
    "memory.tasks.reflection.schedule_reflections": "memory.insights.tasks.schedule_reflections",
    "memory.tasks.maintenance.aggregate_memory": "memory.insights.tasks.aggregate_memory",
    "memory.tasks.maintenance.apply_memory_decay": "memory.lifecycle.tasks.apply_memory_decay",
    "memory.tasks.maintenance.cleanup_sessions": "memory.lifecycle.tasks.cleanup_sessions",
    "memory.tasks.maintenance.prune_old_memories": "memory.lifecycle.tasks.prune_old_memories",
    "memory.tasks.context.rebuild_context_cache": "memory.sessions.tasks.rebuild_context_cache",
}
