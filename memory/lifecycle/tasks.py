"""Periodic upkeep of memories and sessions."""

from django.tasks import task

from jobs import LOW_PRIORITY, RetryPolicy

from memory.lifecycle import decay, retention


@task(queue_name="memory", priority=LOW_PRIORITY, retry=RetryPolicy.exponential(2, base=60), kind="maintenance")
def apply_memory_decay():
    """Decay strength by layer and delete expired memories."""
    return decay.apply_decay()


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="maintenance")
def prune_old_memories():
    """Delete episodic memories past MEMORY_RETENTION_DAYS."""
    return {"deleted": retention.prune_old_memories()}


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="maintenance")
def cleanup_sessions():
    """Delete idle sessions."""
    return {"deleted": retention.cleanup_sessions()}

