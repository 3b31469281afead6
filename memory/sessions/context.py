"""A session's retrieval context: what the project knows that is relevant to its last messages."""

from datetime import timedelta

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from memory.models import Memory, Source
from memory.search.hybrid import hybrid_search

CONTEXT_TTL = timedelta(minutes=5)
CONTEXT_SIZE = 10
QUERY_MESSAGES = 3


def session_messages(session):
    return session.project.memories.filter(source=Source.MESSAGE, metadata__session=session.pk)


def _summary(memory):
    """The cached form of a memory: what a caller shows, not the whole row."""
    return {"id": memory.pk, "content": memory.content, "layer": memory.layer, "source": memory.source,
            "importance": memory.importance, "created_at": memory.created_at.isoformat()}


def build_context(session, now=None):
    """Find the memories most relevant to the session's last messages (the newest ones without messages)."""
    now = now or timezone.now()
    last = list(session_messages(session).order_by("-created_at", "-id").values_list("content", flat=True)
                [:QUERY_MESSAGES])
    # The session's own messages would match themselves best; the context is what else the project knows.
    memories = (Memory.objects.filter(project_id=session.project_id).unexpired()
                .exclude(source=Source.MESSAGE, metadata__session=session.pk)
                .defer("embedding", "search_vector")
                .annotate(embedded=ExpressionWrapper(Q(embedding__isnull=False), output_field=BooleanField())))
    if last:
        query = " ".join(reversed(last))
        found = [hit.memory for hit in hybrid_search(memories, query, limit=CONTEXT_SIZE)]
    else:
        query = ""
        found = list(memories.order_by("-created_at", "-id")[:CONTEXT_SIZE])
    return {"query": query, "memories": [_summary(m) for m in found], "built_at": now.isoformat()}


def refresh_context(session, now=None, force=False):
    """Return the session's context, rebuilding and storing it when forced, missing or stale."""
    now = now or timezone.now()
    fresh = session.context_cached_at is not None and now - session.context_cached_at < CONTEXT_TTL
    if force or not session.context_cache or not fresh:
        session.context_cache = build_context(session, now)
        session.context_cached_at = now
        session.save(update_fields=["context_cache", "context_cached_at"])
    return session.context_cache


def rebuild_project_contexts(project, progress=None):
    """Rebuild every session context of a project (after a bulk import); return how many."""
    sessions = list(project.sessions.select_related("project"))
    for done, session in enumerate(sessions, start=1):
        refresh_context(session, force=True)
        if progress is not None:
            progress(done, len(sessions))
    return len(sessions)
