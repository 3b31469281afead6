"""The posts jobs: thin tasks (ids in, one service call, the next stage queued)."""

from django.tasks import task

from jobs import HIGH_PRIORITY, RetryPolicy

from . import cleanup, enrichment, indexing, ocr, persistence, pipeline

__all__ = ["cleanup_expired_posts", "enrich_post", "index_post", "ocr_post_image", "persist_tags", "tag_post"]


@task(queue_name="memory", priority=HIGH_PRIORITY, retry=RetryPolicy.linear(3, 30), kind="posts")
def tag_post(post_id, force=False):
    """Tag one post (skipped when already tagged for this text, unless forced) and queue persisting its tags."""
    status, event = pipeline.tag_post(post_id, force=force)
    if event is not None:
        persist_tags.enqueue(event)
    return {"status": status, "tags": event["tags"] if event else []}


@task(queue_name="memory", priority=HIGH_PRIORITY, retry=RetryPolicy.linear(3, 30), kind="posts")
def persist_tags(event):
    """UPSERT a `posts.tagged` event's tags; queue the post's enrichment."""
    status = persistence.persist_tags(event)
    if status not in ("missing", "stale"):
        enrich_post.enqueue(event["post_id"])
    return {"status": status}


@task(queue_name="memory", retry=RetryPolicy.linear(3, 60), kind="posts")
def enrich_post(post_id):
    """Crawl the post's links; queue the OCR of its images if it has any, else its indexing."""
    counts = enrichment.enrich_post(post_id)
    if counts is not None:
        (ocr_post_image if counts["images"] else index_post).enqueue(post_id)
    return counts or {"skipped": "missing"}


@task(queue_name="memory", retry=RetryPolicy.linear(3, 60), kind="posts")
def ocr_post_image(post_id):
    """Fetch and OCR the images attached to the post; queue its indexing."""
    counts = ocr.ocr_post_image(post_id)
    if counts is not None:
        index_post.enqueue(post_id)
    return counts or {"skipped": "missing"}


@task(queue_name="memory", retry=RetryPolicy.linear(3, 60), kind="posts")
def index_post(post_id):
    """Embed the post, put its entities in the graph and make it searchable."""
    return indexing.index_post(post_id) or {"skipped": "missing"}


@task(queue_name="maintenance", retry=RetryPolicy.linear(3, 300), takes_context=True, kind="posts",
      unique_key="posts:cleanup")
def cleanup_expired_posts(context):
    """Delete expired posts in batches; a killed run resumes at its checkpoint."""
    deleted = cleanup.cleanup_expired_posts(on_batch=lambda done: context.report_progress(done, done, f"{done} deleted"))
    return {"deleted": deleted}
