from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks

        # The catalog holds every task: import each app's tasks module, like admin.autodiscover().
        autodiscover_modules("tasks")
        from . import samples  # noqa: F401 - the sample tasks are part of the catalog
        from . import live  # noqa: F401 - publishes run signals to WebSocket watchers
        from .metrics import receivers  # noqa: F401 - counts run signals for Prometheus
