"""The memory job catalog: thin tasks (ids in, a service call, progress out)."""

from .maintenance import apply_memory_decay, cleanup_sessions, prune_old_memories

__all__ = ["apply_memory_decay", "cleanup_sessions", "prune_old_memories"]
