"""Tasks that moved keep working under their former paths."""

from jobs.definitions import catalog, get_task
from memory.task_aliases import MOVED_TASKS


def test_every_former_task_path_resolves_to_the_moved_task():
    current = {t.module_path: t for t in catalog()}
    for old, new in MOVED_TASKS.items():
        assert old not in current, f"{old} is still a task: drop its alias"
        assert get_task(old) is current[new]
