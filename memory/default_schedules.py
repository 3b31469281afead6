"""The memory job catalog's periodic schedules (created by `manage.py jobs seed_schedules`)."""

DEFAULT_SCHEDULES = [
    {"name": "memory: apply decay", "task_path": "memory.tasks.maintenance.apply_memory_decay",
     "cron": "0 2 * * *", "timezone": "UTC", "description": "Strength fades by layer; expired memories leave."},
    {"name": "memory: prune old episodic memories", "task_path": "memory.tasks.maintenance.prune_old_memories",
     "cron": "0 3 * * *", "timezone": "UTC", "description": "Episodic only; MEMORY_RETENTION_DAYS (0 = off)."},
    {"name": "memory: clean up sessions", "task_path": "memory.tasks.maintenance.cleanup_sessions",
     "cron": "0 * * * *", "timezone": "UTC", "description": "Idle sessions older than MEMORY_SESSION_IDLE_DAYS."},
]
