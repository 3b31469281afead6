from django.apps import AppConfig

from jobs.definitions import register_task_aliases
from memory.task_aliases import MOVED_TASKS


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self):
        register_task_aliases(MOVED_TASKS)
