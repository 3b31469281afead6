"""Search over documents and memories together, with highlighted snippets and a result cache.

Chunks are ranked like memories (full-text and vector rankings); the four rankings (chunk text,
chunk vector, memory text, memory vector) are fused with reciprocal rank fusion. Results are
cached in Redis per (user's workspaces, query) under a version number per workspace: a change to
any document of a workspace bumps its version, so the old entries are never read again and
expire with their TTL.
"""

import hashlib
import html
import json
import operator
import time
from functools import reduce

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connections, transaction
from django.db.models import F
from pgvector.django import CosineDistance

from jobs.queues import get_redis

from memory.core.memories import Memory
from memory.core.tenancy import Workspace
from ..providers.embeddings import get_embedding_provider
from .models import Chunk, SearchQueryLog
from .search_cache import invalidate_workspace, workspace_version  # noqa: F401 - re-exported for callers

RRF_K = 60
CANDIDATES = 50
TEXT_CONFIG = "english"
# Nearest neighbours always exist; below this cosine similarity they are noise, not results (and
# a query that matches nothing must count as a zero-result query in the analytics).
MIN_SIMILARITY = 0.3
# Control characters mark the hits: the snippet is HTML-escaped first, then they become <mark> tags,
# so markup inside a document's text is shown, never run.
START, STOP = "\x02", "\x03"
HEADLINE = {"start_sel": START, "stop_sel": STOP, "max_words": 30, "min_words": 12, "max_fragments": 2,
            "config": TEXT_CONFIG}
CACHE_PREFIX = "documents:search:cache:"


def text_query(query):
    """Each word parsed by Postgres as the stored text was, OR-ed (see memory's hybrid search)."""
    words = query.split()
    return reduce(operator.or_, (SearchQuery(w, config=TEXT_CONFIG) for w in words)) if words else None


def _vector_ranking(queryset, vector, limit=CANDIDATES):
    with transaction.atomic(using=queryset.db):
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {2 * limit}")
        return list(queryset.filter(embedding__isnull=False).alias(distance=CosineDistance("embedding", vector))
                    .filter(distance__lt=1 - MIN_SIMILARITY).order_by("distance")
                    .values_list("pk", flat=True)[:limit])


def _text_ranking(queryset, tsquery, limit=CANDIDATES):
    return list(queryset.filter(search_vector=tsquery).annotate(rank=SearchRank(F("search_vector"), tsquery))
                .order_by("-rank", "pk").values_list("pk", flat=True)[:limit])


def rank(chunks, memories, query, limit=20, provider=None):
    """[(kind, pk, score)] best first, kind "chunk" or "memory"."""
    tsquery = text_query(query)
    if tsquery is None:
        return []
    vector = (provider or get_embedding_provider()).embed([query])[0].tolist()
    rankings = {
        "chunk": [_text_ranking(chunks, tsquery), _vector_ranking(chunks, vector)],
        "memory": [_text_ranking(memories, tsquery), _vector_ranking(memories, vector)],
    }
    scores = {}
    for kind, lists in rankings.items():
        for ranking in lists:
            for position, pk in enumerate(ranking, start=1):
                scores[(kind, pk)] = scores.get((kind, pk), 0.0) + 1.0 / (RRF_K + position)
    return sorted(((kind, pk, score) for (kind, pk), score in scores.items()), key=lambda r: (-r[2], r[0], r[1]))[:limit]


def highlight(snippet):
    """Escaped snippet HTML with the hits in <mark>."""
    return html.escape(snippet.replace(START, "").replace(STOP, "") if snippet.count(START) != snippet.count(STOP)
                       else snippet).replace(START, "<mark>").replace(STOP, "</mark>")


def _snippets(queryset, field, ids, tsquery):
    rows = queryset.filter(pk__in=ids).annotate(snippet=SearchHeadline(field, tsquery, **HEADLINE))
    return {row.pk: row for row in rows}


def materialize(ranked, query):
    """Result dicts (JSON-safe, for the cache) with highlighted snippets."""
    tsquery = text_query(query)
    chunk_ids = [pk for kind, pk, _ in ranked if kind == "chunk"]
    memory_ids = [pk for kind, pk, _ in ranked if kind == "memory"]
    chunks = _snippets(Chunk.objects.select_related("document"), "text", chunk_ids, tsquery)
    memories = _snippets(Memory.objects.select_related("project"), "content", memory_ids, tsquery)
    results = []
    for kind, pk, score in ranked:
        if kind == "chunk" and pk in chunks:
            chunk = chunks[pk]
            results.append({"kind": "document", "id": chunk.document_id, "chunk": pk, "title": chunk.document.title,
                            "pages": [chunk.page_start, chunk.page_end], "snippet": highlight(chunk.snippet or chunk.text[:200]),
                            "score": round(score, 5)})
        elif kind == "memory" and pk in memories:
            memory = memories[pk]
            results.append({"kind": "memory", "id": pk, "title": memory.project.name,
                            "snippet": highlight(memory.snippet or memory.content[:200]), "score": round(score, 5)})
    return results


def cache_key(redis, workspace_ids, query):
    """The key names the workspace versions it was made under, so upkeep can drop stale entries."""
    versions = ".".join(f"{pk}-{workspace_version(redis, pk)}" for pk in sorted(workspace_ids))
    digest = hashlib.sha256(" ".join(query.lower().split()).encode()).hexdigest()
    return f"{CACHE_PREFIX}{versions}:{digest}"


def search(user, query, limit=20, provider=None):
    """Search the user's documents and memories; log the query; return (results, cached)."""
    started = time.perf_counter()
    query = query.strip()[:500]
    workspace_ids = list(Workspace.objects.visible_to(user).values_list("pk", flat=True))
    if not query or not workspace_ids:
        return [], False
    redis = get_redis()
    key = cache_key(redis, workspace_ids, query)
    cached = redis.get(key)
    if cached is not None:
        results = json.loads(cached)
    else:
        chunks = Chunk.objects.searchable().filter(document__workspace_id__in=workspace_ids)
        memories = Memory.objects.unexpired().filter(workspace_id__in=workspace_ids)
        results = materialize(rank(chunks, memories, query, limit=limit, provider=provider), query)
        ttl = settings.MEMORY_DOCUMENTS_SEARCH_CACHE_SECONDS
        if ttl:
            redis.set(key, json.dumps(results), ex=ttl)
    SearchQueryLog.objects.create(workspace_id=workspace_ids[0] if len(workspace_ids) == 1 else None,
                                  user=user, query=query, results=len(results), cached=cached is not None,
                                  took_ms=round((time.perf_counter() - started) * 1000, 2))
    return results, cached is not None
