"""The stage services behind the tasks: tag a post (with its two dedup layers) and record what happened."""

from jobs.queues import get_redis
from memory.conf import memory_settings

from . import events, metrics, tagging
from .models import Post


def tag_post(post_id, force=False):
    """Tag one post unless this worker or another already tagged this text; return (status, event or None).

    The Redis key (post, revision, text hash) is taken with SET NX before the work and given back if
    tagging fails, so a redelivered run of the same text is skipped on every worker, and a failed one
    can be retried. The revision makes a text edited back to an earlier one a new key: it is tagged again.
    `force` (the admin's "tag again") skips both layers.
    """
    post = Post.objects.filter(pk=post_id).only("pk", "workspace_id", "channel", "stage", "text", "text_hash",
                                                "revision", "events").first()
    if post is None:
        metrics.TAGGING_PROCESSED.labels(status="missing").inc()
        return "missing", None
    cache = tagging.worker_cache()
    key = tagging.dedup_key(post.pk, post.revision, post.text_hash)
    metrics.TAGGING_CACHE_CAPACITY.set(cache.size)
    if not force and key in cache:
        metrics.TAGGING_PROCESSED.labels(status="cached").inc()
        return "cached", None
    redis = get_redis()
    claimed = redis.set(key, 1, nx=True, ex=memory_settings.POSTS_TAG_DEDUP_TTL_SECONDS)
    if not claimed and not force:
        cache.add(key)
        metrics.TAGGING_CACHE_SIZE.set(len(cache))
        metrics.TAGGING_REDIS_DEDUP_HITS.inc()
        metrics.TAGGING_PROCESSED.labels(status="deduplicated").inc()
        return "deduplicated", None
    try:
        result = tagging.tag_text(post.text)
    except Exception:
        redis.delete(key)
        metrics.TAGGING_PROCESSED.labels(status="failed").inc()
        raise
    cache.add(key)
    metrics.TAGGING_CACHE_SIZE.set(len(cache))
    metrics.TAGGING_TAGS_DROPPED.inc(result.dropped)
    metrics.TAGGING_PROCESSED.labels(status="tagged").inc()
    event = {"post_id": post.pk, "tags": result.tags, "tags_hash": result.tags_hash, "dropped": result.dropped,
             "tagger": memory_settings.POSTS_TAGGER, "text_hash": post.text_hash}
    post.record_event("posts.tagged", stage=Post.Stage.TAGGED, tags=result.tags, tags_hash=result.tags_hash)
    events.publish_post(post, "posts.tagged", tags=result.tags, tags_hash=result.tags_hash)
    return "tagged", event
