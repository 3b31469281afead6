"""The posts' periodic upkeep (created by `manage.py jobs seed_schedules`, edited in the admin)."""

DEFAULT_SCHEDULES = [
    {"name": "posts: delete expired posts", "task_path": "memory.posts.tasks.cleanup_expired_posts",
     "interval_seconds": 3600, "cron": "", "timezone": "UTC",
     "description": "Posts past MEMORY_POSTS_TTL_DAYS with their memory, enrichments and orphaned entities; "
                    "resumes at its checkpoint."},
]
