from django.apps import AppConfig

from jobs.dashboard_rows import register_status_row
from jobs.definitions import register_task_aliases
from memory.task_aliases import MOVED_TASKS


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self):
        register_task_aliases(MOVED_TASKS)
        # Imported here: the rule queries models, which exist only once the app registry is ready.
        from jobs.consumers import register_run_watch_rule  # noqa: PLC0415

        from .chats.live import may_watch_own_run  # noqa: PLC0415

        register_run_watch_rule(may_watch_own_run)
        # The documents' health check shows on the jobs dashboard; jobs/ never imports memory/.
        from .documents.status_row import health_row  # noqa: PLC0415 - models load after ready()

        register_status_row("documents-health", health_row)
