"""Bounded labels: catalog task paths and configured queue names, "other" for anything else."""

from ..conf import jobs_settings

_task_paths = None  # the catalog's task paths: the only task labels


def task_label(task_path):
    """A task's label: its path when it is in the catalog, "other" for anything else."""
    from ..definitions import catalog  # the catalog is built once the apps are ready

    global _task_paths
    if _task_paths is None or task_path not in _task_paths:
        # A task registered after the first look (a test's, a late import) is found on a miss.
        _task_paths = frozenset(task.module_path for task in catalog())
    return task_path if task_path in _task_paths else "other"


def queue_label(queue):
    return queue if queue in jobs_settings.QUEUES else "other"
