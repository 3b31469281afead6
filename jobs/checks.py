"""System checks: a reachable Redis and database, and tasks on queues that exist."""

from django.core import checks

from .conf import jobs_settings
from .definitions import catalog


def check_backend(backend):
    """Checks of the TASKS backend (called through django.tasks' own check)."""
    errors = []
    unknown = set(backend.queues) - set(jobs_settings.QUEUES)
    if unknown:
        errors.append(checks.Error(
            f"TASKS queues {sorted(unknown)} are not in JOBS_QUEUES", id="jobs.E003",
            hint="Add them to the JOBS_QUEUES environment variable.",
        ))
    for task in catalog():
        if task.queue_name not in jobs_settings.QUEUES:
            errors.append(checks.Error(
                f"task {task.module_path} uses unknown queue {task.queue_name!r}", id="jobs.E004",
                hint=f"Known queues: {', '.join(jobs_settings.QUEUES)}",
            ))
    return errors


@checks.register(checks.Tags.database, deploy=False)
def check_redis(app_configs=None, **kwargs):
    from redis.exceptions import RedisError

    from .queues import get_redis

    try:
        get_redis().ping()
    except RedisError as exc:
        return [checks.Error(
            f"Redis at REDIS_URL is unreachable: {exc}", id="jobs.E001",
            hint="Start it (`manage.py services start` for the embedded one) or fix REDIS_URL.",
        )]
    return []


@checks.register(checks.Tags.database)
def check_database(app_configs=None, databases=None, **kwargs):
    from django.db import DatabaseError, connection

    if not databases:
        return []
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        return [checks.Error(
            f"PostgreSQL at DATABASE_URL is unreachable: {exc}", id="jobs.E002",
            hint="Start it (`manage.py services start` for the embedded one) or fix DATABASE_URL.",
        )]
    return []
