"""persist_tags: one UPSERT per event that rewrites the tags row only when its tags_hash changed."""

import json
import time

from django.db import connection

from . import metrics
from .models import Post, PostEnrichment, tag_key

# The row is written when it is new or its hash differs; `xmax = 0` tells an insert from an update
# (PostgreSQL sets xmax on the old version of an updated row). No row back: the hash was unchanged.
UPSERT = f"""
INSERT INTO {PostEnrichment._meta.db_table} (post_id, kind, data, tags_hash, updated_at)
VALUES (%s, %s, %s::jsonb, %s, now())
ON CONFLICT (post_id, kind) DO UPDATE
   SET data = EXCLUDED.data, tags_hash = EXCLUDED.tags_hash, updated_at = EXCLUDED.updated_at
 WHERE {PostEnrichment._meta.db_table}.tags_hash IS DISTINCT FROM EXCLUDED.tags_hash
RETURNING (xmax = 0) AS inserted
"""


def persist_tags(event):
    """UPSERT the tags of a `posts.tagged` event; return created, updated, unchanged, stale or missing.

    An event about a text the post no longer has is stale and not written: two edits' events may be
    persisted out of order, and the row must end with the tags of the current text.
    """
    started = time.perf_counter()
    post_id, tags, digest = int(event["post_id"]), list(event["tags"]), str(event["tags_hash"])
    current = Post.objects.filter(pk=post_id).values_list("text_hash", flat=True).first()
    if current is None:
        metrics.TAGS_PERSISTED.labels(status="missing").inc()
        return "missing"
    if event.get("text_hash") not in (None, current):
        metrics.TAGS_PERSISTED.labels(status="stale").inc()
        return "stale"
    data = {"tags": tags, "keys": [tag_key(tag) for tag in tags], "dropped": int(event.get("dropped", 0)),
            "tagger": str(event.get("tagger", ""))}
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [post_id, PostEnrichment.Kind.TAGS, json.dumps(data), digest])
        row = cursor.fetchone()
    status = "unchanged" if row is None else "created" if row[0] else "updated"
    if status != "created":
        metrics.TAGS_PERSIST_CONFLICTS.inc()
    metrics.TAGS_PERSISTED.labels(status=status).inc()
    metrics.TAGS_PERSIST_LATENCY.observe(time.perf_counter() - started)
    return status
