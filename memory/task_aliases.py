"""Former dotted paths of memory tasks that moved, to their current paths.

Runs, schedules and task policies store a task's path. Migration 0005_task_paths rewrites the
stored ones; MemoryConfig.ready() registers this map with the job platform so a run queued under
a former path before an upgrade (its id already in Redis) still finds its task.
"""

MOVED_TASKS = {
    "memory.tasks.enrichment.extract_topics": "memory.enrichment.tasks.extract_topics",
    "memory.tasks.enrichment.update_embeddings": "memory.enrichment.tasks.update_embeddings",
    "memory.tasks.enrichment.embed_batch": "memory.enrichment.tasks.embed_batch",
}
