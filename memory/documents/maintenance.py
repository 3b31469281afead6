"""Upkeep: orphaned files, stale caches, bloated vector indexes, and the health check row."""

import logging
import os
import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from jobs.models import Worker
from jobs.queues import get_redis

from .models import Chunk, Document, DocumentPage, DocumentStatus, HealthCheck
from .search import CACHE_PREFIX, workspace_version

logger = logging.getLogger("memory.documents")
DOCUMENTS_DIR = "documents"
# An index whose size is this many times what its live rows need gets rebuilt (REINDEX CONCURRENTLY).
BLOAT_RATIO = 2.0
VECTOR_INDEXES = ("chunk_embedding_hnsw", "memory_embedding_hnsw")


def _walk(directory):
    try:
        dirs, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}"
    for name in dirs:
        yield from _walk(f"{directory}/{name}")


def clean_orphans(min_age_seconds=3600):
    """Delete stored files no document points to, and the pages and chunks failed documents left; return counts.

    A file younger than `min_age_seconds` is kept: its upload may not have committed its row yet.
    Pages and chunks cannot outlive their document (the foreign keys cascade), but a document
    that failed on a re-run still holds those of its earlier success, which search must not show.
    """
    known = set(Document.objects.exclude(file="").values_list("file", flat=True))
    files = 0
    now = time.time()
    for name in _walk(DOCUMENTS_DIR):
        if name in known or now - os.path.getmtime(default_storage.path(name)) < min_age_seconds:
            continue
        default_storage.delete(name)
        files += 1
    failed = Document.objects.filter(status=DocumentStatus.FAILED)
    chunks, _ = Chunk.objects.filter(document__in=failed).delete()
    pages, _ = DocumentPage.objects.filter(document__in=failed).delete()
    return {"files": files, "chunks": chunks, "pages": pages}


def expire_search_cache():
    """Delete cached searches made under an older version of any of their workspaces; return how many."""
    redis = get_redis()
    deleted = 0
    for key in redis.scan_iter(match=f"{CACHE_PREFIX}*", count=500):
        versions = key.decode().removeprefix(CACHE_PREFIX).split(":", 1)[0]
        for pair in versions.split("."):
            workspace_id, _, version = pair.partition("-")
            if int(version) < workspace_version(redis, workspace_id):
                deleted += redis.delete(key)
                break
    return {"deleted": deleted}


def maintain_vector_indexes(ratio=BLOAT_RATIO, force=False):
    """REINDEX CONCURRENTLY each vector index whose dead share passes `ratio`; return what was done.

    Bloat is estimated from the table's dead tuples against its live ones (pg_stat_user_tables),
    since an HNSW index keeps a node for every row version until it is rebuilt or vacuumed.
    """
    done = {}
    for name in VECTOR_INDEXES:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0) "
                "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid "
                "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE ic.relname = %s", [name])
            row = cursor.fetchone()
        if row is None:
            continue
        table, live, dead = row
        bloat = (live + dead) / max(live, 1)
        if force or bloat >= ratio:
            # CONCURRENTLY cannot run in a transaction block; Django's cursor is in autocommit here.
            with connection.cursor() as cursor:
                cursor.execute(f'REINDEX INDEX CONCURRENTLY "{name}"')
            done[name] = {"reindexed": True, "bloat": round(bloat, 2)}
        else:
            done[name] = {"reindexed": False, "bloat": round(bloat, 2)}
    return done


def _check(name, probe):
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # a health check reports every failure instead of raising it
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return name, {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _storage():
    name = default_storage.save(f"health/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)
    return "writable"


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _redis():
    get_redis().ping()
    return "ok"


def _workers():
    alive = Worker.objects.alive().count()
    if not alive:
        raise RuntimeError("no live worker")
    return f"{alive} live"


def run_health_check():
    """Probe storage, database, Redis and workers; store and return the HealthCheck row."""
    results = dict(_check(name, probe) for name, probe in
                   (("storage", _storage), ("database", _database), ("redis", _redis), ("workers", _workers)))
    return HealthCheck.objects.create(checked_at=timezone.now(), ok=all(r["ok"] for r in results.values()),
                                      results=results)
