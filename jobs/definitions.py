"""The task class our backend gives @task: Django's Task plus the job platform's policy."""

from dataclasses import dataclass, replace

from django.tasks import Task
from django.tasks.exceptions import InvalidTask

from .retry import RetryPolicy

# Every task defined with our backend, by dotted path: the catalog.
_catalog = {}
# Former dotted paths of tasks that moved, to their current ones. Runs, schedules and policies
# store a task's path; a run queued before an upgrade still names the old one.
_aliases = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobTask(Task):
    """A task with a retry policy, time limits, an optional unique key and a result TTL.

    Django 6.1 passes unknown @task(...) keyword arguments to the backend's task class, so these
    fields are set as @task(retry=..., soft_time_limit=...) without a decorator of our own.
    """

    retry: RetryPolicy = RetryPolicy()
    soft_time_limit: float | None = None  # seconds; raises SoftTimeLimitExceeded inside the task
    hard_time_limit: float | None = None  # seconds; the process running the task is killed
    # True: one active run per task and arguments; a str: a format template over the call's
    # arguments ("embed:{memory_id}" or "embed:{0}"); None: no de-duplication.
    unique_key: bool | str | None = None
    result_ttl: int | None = None  # seconds RQ keeps its copy; the ledger keeps results until purged
    kind: str = ""  # event family for live progress (ingestion, analysis, ...)

    def __post_init__(self):
        if not isinstance(self.retry, RetryPolicy):
            raise InvalidTask(f"retry must be a jobs.RetryPolicy, got {type(self.retry).__name__}")
        for name in ("soft_time_limit", "hard_time_limit"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise InvalidTask(f"{name} must be a positive number of seconds, got {value!r}")
        if self.soft_time_limit and self.hard_time_limit and self.soft_time_limit >= self.hard_time_limit:
            raise InvalidTask("soft_time_limit must be shorter than hard_time_limit")
        if self.unique_key is not None and not isinstance(self.unique_key, (bool, str)):
            raise InvalidTask("unique_key must be True, a format string or None")
        if self.result_ttl is not None and (not isinstance(self.result_ttl, int) or self.result_ttl < 0):
            raise InvalidTask("result_ttl must be a non-negative integer")
        Task.__post_init__(self)
        # .using() copies keep the decorated original in the catalog.
        _catalog.setdefault(self.module_path, self)

    def using(self, *, unique_key=None, **changes):
        """Like Task.using(); also sets a per-call unique key."""
        task = Task.using(self, **changes)
        if unique_key is not None:
            task = replace(task, unique_key=unique_key)
        return task

    def enqueue_many(self, args_list, **kwargs):
        """Enqueue one run per tuple of positional arguments (kwargs shared); return their results.

        An extension of Django's API for bulk work: one INSERT and one Redis round trip per
        chunk instead of one of each per run.
        """
        return self.get_backend().enqueue_many(self, [tuple(args) for args in args_list], kwargs)

    def resolve_unique_key(self, args, kwargs):
        """Return the de-duplication key of a call, or None."""
        import hashlib
        import json

        if not self.unique_key:
            return None
        if self.unique_key is True:
            digest = hashlib.sha256(
                json.dumps([args, kwargs], sort_keys=True, default=str).encode()
            ).hexdigest()[:32]
            return f"{self.module_path}:{digest}"
        try:
            return self.unique_key.format(*args, **kwargs)
        except (IndexError, KeyError) as exc:
            raise InvalidTask(f"unique_key {self.unique_key!r} refers to a missing argument: {exc}") from None


def catalog():
    """Every known task, sorted by path."""
    return [_catalog[path] for path in sorted(_catalog)]


def register_task_aliases(aliases):
    """Resolve each former task path (key) to its current one (value) from now on.

    An app whose tasks moved calls this from its AppConfig.ready(), so the job platform needs to
    know nothing of the app's layout.
    """
    for old, new in aliases.items():
        if _aliases.get(old, new) != new:
            raise ValueError(f"task path {old!r} is already an alias of {_aliases[old]!r}")
        _aliases[old] = new


def task_aliases():
    """Former task paths and the current paths they resolve to."""
    return dict(_aliases)


def get_task(path):
    """Return the task at a dotted path (or a former path of a moved task), importing its module if needed."""
    from django.utils.module_loading import import_string

    path = _aliases.get(path, path)
    if path in _catalog:
        return _catalog[path]
    try:
        task = import_string(path)
    except ImportError:
        raise LookupError(f"unknown task {path!r}") from None
    if not isinstance(task, Task):
        raise LookupError(f"{path!r} is not a task")
    return task
