"""The search cache's version per workspace: bumping it makes every cached search over it stale.

Kept apart from search.py (which imports the models of every capability) so that the document
models can invalidate on delete without an import cycle.
"""

from django.db import transaction

from jobs.queues import get_redis

VERSION_KEY = "documents:search:version:{}"


def workspace_version(redis, workspace_id):
    return int(redis.get(VERSION_KEY.format(workspace_id)) or 0)


def invalidate_workspace(workspace_id):
    """Make every cached search over this workspace stale (a document changed)."""
    get_redis().incr(VERSION_KEY.format(workspace_id))


def invalidate_after_commit(workspace_id):
    """Invalidate once the current transaction commits: a search in between still sees the old rows."""
    transaction.on_commit(lambda: invalidate_workspace(workspace_id))
