"""Apply the operator's TaskPolicy overrides (edited in admin) to new runs."""

import time
from dataclasses import dataclass, replace

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import TaskPolicy
from .retry import RetryPolicy

# Overrides are read at most this often per process: an admin edit reaches every enqueueing
# process within seconds, without a query per enqueue.
CACHE_SECONDS = 2.0
_cache = {"loaded_at": None, "by_path": {}}


@dataclass(frozen=True)
class EffectivePolicy:
    retry: RetryPolicy
    soft_time_limit: float | None
    hard_time_limit: float | None
    priority: int
    paused: bool


def _overrides():
    now = time.monotonic()
    if _cache["loaded_at"] is None or now - _cache["loaded_at"] > CACHE_SECONDS:
        _cache["by_path"] = {p.task_path: p for p in TaskPolicy.objects.all()}
        _cache["loaded_at"] = now
    return _cache["by_path"]


def forget():
    """Drop the cached overrides (after an edit in this process)."""
    _cache["loaded_at"] = None


@receiver([post_save, post_delete], sender=TaskPolicy)
def _policy_changed(sender, **kwargs):
    forget()


def effective_policy(task):
    """The task's policy from code with the admin's overrides applied."""
    override = _overrides().get(task.module_path)
    base = EffectivePolicy(task.retry, task.soft_time_limit, task.hard_time_limit, task.priority, False)
    if override is None:
        return base
    retry = task.retry
    changes = {}
    if override.max_attempts:
        changes["max_attempts"] = override.max_attempts
    if override.backoff:
        changes["backoff"] = override.backoff
        changes["delays"] = ()  # an explicit backoff replaces the code's fixed delays
    if override.backoff_base is not None:
        changes["base"] = override.backoff_base
        changes["delays"] = ()
    if override.backoff_cap is not None:
        changes["cap"] = override.backoff_cap
    if changes:
        retry = replace(retry, **changes)
    return EffectivePolicy(
        retry=retry,
        soft_time_limit=override.soft_time_limit if override.soft_time_limit is not None else task.soft_time_limit,
        hard_time_limit=override.hard_time_limit if override.hard_time_limit is not None else task.hard_time_limit,
        priority=override.priority if override.priority is not None else task.priority,
        paused=override.paused,
    )


def paused_task_paths():
    return {path for path, override in _overrides().items() if override.paused}
