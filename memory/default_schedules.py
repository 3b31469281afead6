"""The memory job catalog's periodic schedules (created by `manage.py jobs seed_schedules`)."""

DEFAULT_SCHEDULES = [
    {"name": "memory: apply decay", "task_path": "memory.lifecycle.tasks.apply_memory_decay",
     "cron": "0 2 * * *", "timezone": "UTC", "description": "Strength fades by layer; expired memories leave."},
    {"name": "memory: prune old episodic memories", "task_path": "memory.lifecycle.tasks.prune_old_memories",
     "cron": "0 3 * * *", "timezone": "UTC", "description": "Episodic only; MEMORY_RETENTION_DAYS (0 = off)."},
    {"name": "memory: clean up sessions", "task_path": "memory.lifecycle.tasks.cleanup_sessions",
     "cron": "0 * * * *", "timezone": "UTC", "description": "Idle sessions older than MEMORY_SESSION_IDLE_DAYS."},
    # The two graph schedules never take the same memory: one reads new memories (and chains a
    # community detection), the other keeps the extracted graph current and re-clusters what changed.
    {"name": "memory: update knowledge graph", "task_path": "memory.graph.tasks.update_graph_batch",
     "interval_seconds": 300, "cron": "", "timezone": "UTC",
     "description": "Re-extract up to 200 memories whose text changed since their extraction, then re-detect "
                    "communities in every project whose graph changed since its last detection."},
    {"name": "memory: extract knowledge graph", "task_path": "memory.graph.tasks.process_graph_extraction_queue",
     "interval_seconds": 300, "cron": "", "timezone": "UTC",
     "description": "Extract the facts of up to 200 memories never extracted, oldest first, then detect "
                    "communities (a chained run) in the projects whose graph changed."},
    # Entity resolution runs per project: on demand (admin action) and weekly through this fan-out.
    {"name": "memory: resolve entities", "task_path": "memory.graph.tasks.resolve_entities_weekly",
     "cron": "0 4 * * 1", "timezone": "UTC", "description": "Weekly: merge entities that name the same thing."},
    {"name": "memory: detect anomalies", "task_path": "memory.insights.tasks.detect_anomalies",
     "cron": "5 * * * *", "timezone": "UTC", "description": "Hourly activity spikes and drops (robust z-score)."},
    {"name": "memory: schedule reflections", "task_path": "memory.insights.tasks.schedule_reflections",
     "cron": "15 * * * *", "timezone": "UTC", "description": "Reflect on projects with new episodic memories."},
    {"name": "memory: aggregate episodes", "task_path": "memory.insights.tasks.aggregate_memory",
     "cron": "0 2 * * *", "timezone": "UTC", "description": "Yesterday's recurring episodes become semantic memories."},
]

from memory.documents.schedules import DEFAULT_SCHEDULES as DOCUMENT_SCHEDULES  # noqa: E402
DEFAULT_SCHEDULES += DOCUMENT_SCHEDULES
from memory.posts.schedules import DEFAULT_SCHEDULES as POST_SCHEDULES  # noqa: E402
DEFAULT_SCHEDULES += POST_SCHEDULES
