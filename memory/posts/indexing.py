"""index_post: a post (with its crawled pages) becomes a memory of its workspace's "posts" project, so it is
embedded, put into the graph and found by search together with memories and documents, until it expires."""

import time

from django.db import transaction

from memory.enrichment.embedding import embed_memories
from memory.graph.extraction import extract_graph
from memory.models import Memory, Project, Source
from memory.providers.embeddings import EmbeddingError

from . import events, metrics
from .models import Post, PostEnrichment
from .ocr import ocr_text

POSTS_PROJECT_SLUG = "posts"
# A crawled page adds its title and the start of its text; the whole page would drown the post.
PAGE_EXCERPT_CHARS = 2_000


def posts_project(workspace_id):
    project, _ = Project.objects.get_or_create(workspace_id=workspace_id, slug=POSTS_PROJECT_SLUG,
                                               defaults={"name": "Posts"})
    return project


def indexed_text(post):
    """The post's text, the text read from its images, then the title and an excerpt of each crawled page."""
    parts = [part for part in (post.text, ocr_text(post)) if part.strip()]
    crawl = PostEnrichment.objects.filter(post=post, kind=PostEnrichment.Kind.CRAWL).first()
    for page in (crawl.data.get("pages", []) if crawl else []):
        if page.get("title") or page.get("text"):
            parts.append("\n".join(filter(None, [page.get("title", ""), (page.get("text") or "")[:PAGE_EXCERPT_CHARS]])))
    return "\n\n".join(parts)


def post_memory(post):
    return Memory.objects.filter(project__workspace_id=post.workspace_id, project__slug=POSTS_PROJECT_SLUG,
                                 metadata__post_id=post.pk).first()


def index_post(post_id):
    """Write the post's memory, embed it (the post keeps the vector) and extract its graph; None if gone."""
    started = time.perf_counter()
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        metrics.INDEX_PROCESSED.labels(status="missing").inc()
        return None
    content = indexed_text(post)
    with transaction.atomic():
        memory = post_memory(post)
        metadata = {"post_id": post.pk, "author": post.channel, "channel": post.channel, "kind": "post"}
        if memory is None:
            memory = Memory.objects.create(workspace_id=post.workspace_id, project=posts_project(post.workspace_id),
                                           content=content, source=Source.MESSAGE, expires_at=post.expires_at,
                                           metadata=metadata)
        elif memory.content != content or memory.expires_at != post.expires_at:
            memory.content, memory.expires_at, memory.metadata = content, post.expires_at, metadata
            memory.save(update_fields=["content", "expires_at", "metadata", "updated_at"])
    counts = embed_memories([memory.pk])
    if counts["failed"]:
        metrics.INDEX_PROCESSED.labels(status="failed").inc()
        raise EmbeddingError(f"the embedding provider failed for post {post.pk}")  # the task retries
    memory.refresh_from_db(fields=["embedding"])
    Post.objects.filter(pk=post.pk).update(embedding=memory.embedding)
    graph = extract_graph(memory)
    post.record_event("posts.indexed", stage=Post.Stage.INDEXED, memory_id=memory.pk,
                      entities_created=graph["entities_created"], relations=graph["relations_created"])
    events.publish_post(post, "posts.indexed", memory_id=memory.pk)
    metrics.INDEX_PROCESSED.labels(status="indexed").inc()
    metrics.INDEX_LATENCY.observe(time.perf_counter() - started)
    return {"memory_id": memory.pk, **graph}
