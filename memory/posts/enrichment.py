"""enrich_post: fetch each linked page (memory.posts.fetch refuses what is unsafe) and store kind `crawl`."""

import time

from django.utils import timezone

from . import events, metrics
from .fetch import FetchRefused, fetch_page
from .models import Post, PostEnrichment

# The preview and the index read the start of a page; a whole book stays out of the row.
MAX_PAGE_TEXT_CHARS = 20_000


def crawl(url):
    """One page as stored in the crawl row: its text and title, or the reason it was refused."""
    try:
        page = fetch_page(url)
    except FetchRefused as exc:
        return {"url": url, "ok": False, "reason": exc.reason}
    return {"url": url, "ok": True, "final_url": page.final_url, "status": page.status,
            "content_type": page.content_type, "title": page.title, "text": (page.text or "")[:MAX_PAGE_TEXT_CHARS],
            "bytes": page.bytes}


def enrich_post(post_id):
    """Crawl the post's links into its `crawl` enrichment; return {pages, refused, images}, None if the post is gone.

    `images` counts the attached images, which ocr_post_image reads next.
    """
    started = time.perf_counter()
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        metrics.ENRICH_PROCESSED.labels(status="missing").inc()
        return None
    pages = [crawl(url) for url in post.links]
    PostEnrichment.objects.update_or_create(post=post, kind=PostEnrichment.Kind.CRAWL,
                                            defaults={"data": {"pages": pages}, "updated_at": timezone.now()})
    counts = {"pages": sum(page["ok"] for page in pages), "refused": sum(not page["ok"] for page in pages)}
    post.record_event("posts.enriched", stage=Post.Stage.ENRICHED, **counts)
    events.publish_post(post, "posts.enriched", **counts)
    metrics.ENRICH_PROCESSED.labels(status="enriched").inc()
    metrics.ENRICH_LATENCY.observe(time.perf_counter() - started)
    return {**counts, "images": len(post.images)}
