"""The documents' periodic upkeep (created by `manage.py jobs seed_schedules`, edited in the admin)."""

TASKS = "memory.documents.tasks"
DEFAULT_SCHEDULES = [
    {"name": "documents: nightly backup", "task_path": f"{TASKS}.backup_database", "cron": "30 1 * * *",
     "timezone": "UTC", "description": "pg_dump (custom format) + stored files; MEMORY_DOCUMENTS_BACKUP_KEEP / _MAX_AGE_DAYS."},
    {"name": "documents: vector index maintenance", "task_path": f"{TASKS}.maintain_vector_indexes",
     "cron": "0 4 * * *", "timezone": "UTC", "description": "REINDEX CONCURRENTLY the HNSW indexes past 2x bloat."},
    {"name": "documents: clean orphans", "task_path": f"{TASKS}.clean_orphans", "cron": "45 3 * * *",
     "timezone": "UTC", "description": "Stored files without a document; chunks and pages of failed documents."},
    {"name": "documents: expire search cache", "task_path": f"{TASKS}.expire_search_cache",
     "interval_seconds": 900, "cron": "", "timezone": "UTC", "description": "Cached searches of changed workspaces."},
    {"name": "documents: health check", "task_path": f"{TASKS}.run_health_check", "interval_seconds": 300,
     "cron": "", "timezone": "UTC", "description": "Storage, database, Redis and workers; one row per check."},
]
