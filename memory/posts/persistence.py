"""persist_tags: one UPSERT per event that rewrites the tags row only when its tags_hash changed."""

import json
import time

from django.db import connection

from . import metrics
from .models import Post, PostEnrichment, tag_key

ENRICHMENTS, POSTS = PostEnrichment._meta.db_table, Post._meta.db_table

# One round trip: the post's current text hash and the UPSERT, which writes only when the post
# exists, the event is about its current text (or does not say) and the row is new or its hash
# differs. `xmax = 0` tells an insert from an update (PostgreSQL sets xmax on the old version of an
# updated row). Back: (current text hash or NULL if the post is gone, inserted or NULL if not written).
UPSERT = f"""
WITH current AS (SELECT id, text_hash FROM {POSTS} WHERE id = %(post_id)s),
written AS (
    INSERT INTO {ENRICHMENTS} (post_id, kind, data, tags_hash, updated_at)
    SELECT id, %(kind)s, %(data)s::jsonb, %(tags_hash)s, now() FROM current
     WHERE %(text_hash)s::text IS NULL OR current.text_hash = %(text_hash)s::text
    ON CONFLICT (post_id, kind) DO UPDATE
       SET data = EXCLUDED.data, tags_hash = EXCLUDED.tags_hash, updated_at = EXCLUDED.updated_at
     WHERE {ENRICHMENTS}.tags_hash IS DISTINCT FROM EXCLUDED.tags_hash
    RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT text_hash FROM current), (SELECT inserted FROM written)
"""


def persist_tags(event):
    """UPSERT the tags of a `posts.tagged` event; return created, updated, unchanged, stale or missing.

    An event about a text the post no longer has is stale and not written: two edits' events may be
    persisted out of order, and the row must end with the tags of the current text.
    """
    started = time.perf_counter()
    post_id, tags, digest = int(event["post_id"]), list(event["tags"]), str(event["tags_hash"])
    text_hash = event.get("text_hash")
    data = {"tags": tags, "keys": [tag_key(tag) for tag in tags], "dropped": int(event.get("dropped", 0)),
            "tagger": str(event.get("tagger", ""))}
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, {"post_id": post_id, "kind": PostEnrichment.Kind.TAGS, "data": json.dumps(data),
                                "tags_hash": digest, "text_hash": None if text_hash is None else str(text_hash)})
        current, inserted = cursor.fetchone()
    if current is None:
        metrics.TAGS_PERSISTED.labels(status="missing").inc()
        return "missing"
    if text_hash is not None and current != text_hash:
        metrics.TAGS_PERSISTED.labels(status="stale").inc()
        return "stale"
    status = "unchanged" if inserted is None else "created" if inserted else "updated"
    if status != "created":
        metrics.TAGS_PERSIST_CONFLICTS.inc()
    metrics.TAGS_PERSISTED.labels(status=status).inc()
    metrics.TAGS_PERSIST_LATENCY.observe(time.perf_counter() - started)
    return status
