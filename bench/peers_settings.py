"""Settings for bench/peers.py: Engram's own, plus django-tasks' database backend as a peer."""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]  # noqa: F405
TASKS = {**TASKS, "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}  # noqa: F405
