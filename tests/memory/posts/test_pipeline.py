"""A post through the whole pipeline on real workers: tagged, persisted, enriched, indexed, searchable, expired."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs.metrics import exposition
from memory.models import Entity, Memory, Relation
from memory.posts import cleanup
from memory.posts.models import Post, PostEnrichment
from tests.memory.factories import make_workspace

from .factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Alice Chen joined Acme Corp. Acme Corp uses PostgreSQL for the billing service."


def test_a_post_is_tagged_persisted_enriched_indexed_and_searchable(member, client, work):
    workspace = make_workspace("acme", member=member)
    post = make_post(workspace, TEXT, channel="acme-news")
    work()
    post.refresh_from_db()
    assert post.stage == "indexed"
    assert [e["event"] for e in post.events] == ["posts.parsed", "posts.tagged", "posts.enriched", "posts.indexed"]
    tags = PostEnrichment.objects.get(post=post, kind="tags")
    assert tags.data["tags"] and all(tag in TEXT for tag in tags.data["tags"])
    assert PostEnrichment.objects.get(post=post, kind="crawl").data == {"pages": []}
    assert post.embedding is not None
    memory = Memory.objects.get(metadata__post_id=post.pk)
    assert memory.expires_at == post.expires_at and memory.project.slug == "posts"
    assert Entity.objects.filter(project=memory.project).exists()
    response = client.get("/api/search", {"q": "billing PostgreSQL"})
    assert [hit["memory"]["metadata"]["post_id"] for hit in response.json()["results"]][:1] == [post.pk]


def test_the_metrics_page_shows_the_pipeline_series(member, work):
    make_post(make_workspace("acme", member=member), TEXT)
    work()
    text = exposition(ledger=False).decode()
    for name in ("tagging_processed_total", "tagging_cache_size", "tagging_redis_dedup_hits_total",
                 "tags_persisted_total", "tags_persist_latency_seconds_bucket", "tags_persist_conflicts_total",
                 "posts_enrich_processed_total", "posts_enrich_latency_seconds_bucket",
                 "posts_index_processed_total", "posts_index_latency_seconds_bucket"):
        assert f"\n{name}" in text, name


def test_cleanup_deletes_expired_posts_with_their_memory_enrichments_and_orphaned_entities(member, work):
    workspace = make_workspace("acme", member=member)
    old = make_post(workspace, TEXT, external_id="old")
    fresh = make_post(workspace, "Globex hires Bob Stone for the Berlin office.", external_id="fresh")
    work()
    assert Entity.objects.exists() and Relation.objects.exists()
    Post.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert cleanup.cleanup_expired_posts() == 1
    assert list(Post.objects.all()) == [fresh]
    assert not Memory.objects.filter(metadata__post_id=old.pk).exists()
    assert Memory.objects.filter(metadata__post_id=fresh.pk).exists()
    assert not PostEnrichment.objects.filter(post_id=old.pk).exists()
    related = set(Relation.objects.values_list("subject_id", flat=True)) | set(
        Relation.objects.values_list("object_id", flat=True))
    assert set(Entity.objects.values_list("pk", flat=True)) == related  # none left orphaned
