"""Tags are substrings of the post, found once per text across workers, and persisted only when they change."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory.posts import metrics, persistence, pipeline, tagging
from memory.posts.models import Post, PostEnrichment
from tests.memory.factories import make_workspace

from .factories import make_post

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def value(metric, **labels):
    return (metric.labels(**labels) if labels else metric)._value.get()


def test_a_tag_that_is_not_in_the_text_is_dropped_and_counted():
    text = "Acme  Corp\nships PostgreSQL 17 for billing"
    kept, dropped = tagging.check_tags(["acme corp", "PostgreSQL 17", "Oracle", "postgresql 17", 3, "  "], text, 8)
    assert kept == ["Acme  Corp", "PostgreSQL 17"] and dropped == 3


def test_a_tag_is_returned_as_the_text_writes_it():
    assert tagging.as_written("new york", "Office in New\tYork, USA") == "New\tYork"
    assert tagging.as_written("STRASSE", "die Straße") == "Straße"
    assert tagging.as_written("s", "ß") is None  # half of a character's casefolding is not a substring


@PROPERTY
@given(text=st.text(min_size=0, max_size=300), candidates=st.lists(st.text(max_size=20), max_size=10))
def test_checked_tags_are_always_substrings_of_the_text(text, candidates):
    # Candidates drawn from the text itself as well as at random, so both branches are exercised.
    candidates = candidates + [text[i:i + 7] for i in range(0, len(text), 11)]
    kept, dropped = tagging.check_tags(candidates, text, limit=50)
    assert all(tag in text for tag in kept)
    assert all(tag.strip() for tag in kept)
    assert len(kept) + dropped <= len(candidates)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=400))
def test_the_local_tagger_never_returns_a_tag_outside_the_text(text):
    result = tagging.tag_text(text, tagger="local")
    assert all(tag in text for tag in result.tags)


def test_the_ttl_lru_cache_forgets_the_oldest_and_the_expired():
    now = [0.0]
    cache = tagging.TTLCache(size=2, ttl=10, clock=lambda: now[0])
    cache.add("a")
    cache.add("b")
    assert "a" in cache  # a is now the most recently used
    cache.add("c")
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    now[0] = 11
    assert "a" not in cache and len(cache) == 1


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_post_is_tagged_once_per_worker_and_once_across_workers(settings):
    post = make_post(make_workspace())
    tagged, cached, redis_hits = (value(metrics.TAGGING_PROCESSED, status="tagged"),
                                  value(metrics.TAGGING_PROCESSED, status="cached"),
                                  value(metrics.TAGGING_REDIS_DEDUP_HITS))
    status, event = pipeline.tag_post(post.pk)
    assert status == "tagged" and event["tags"] and all(tag in post.text for tag in event["tags"])
    assert pipeline.tag_post(post.pk) == ("cached", None)
    settings.MEMORY_POSTS_TAG_CACHE_SIZE = 5  # a new cache: as another worker process would hold
    assert pipeline.tag_post(post.pk) == ("deduplicated", None)
    assert value(metrics.TAGGING_PROCESSED, status="tagged") == tagged + 1
    assert value(metrics.TAGGING_PROCESSED, status="cached") == cached + 1
    assert value(metrics.TAGGING_REDIS_DEDUP_HITS) == redis_hits + 1
    post.refresh_from_db()
    assert post.stage == "tagged" and [e["event"] for e in post.events] == ["posts.parsed", "posts.tagged"]
    assert pipeline.tag_post(post.pk, force=True)[0] == "tagged"


@pytest.mark.django_db(transaction=True)
def test_an_edited_text_is_tagged_again():
    workspace = make_workspace()
    post = make_post(workspace, "Acme Corp moves billing to PostgreSQL")
    assert pipeline.tag_post(post.pk)[0] == "tagged"
    post = make_post(workspace, "Globex opens an office in Berlin")
    status, event = pipeline.tag_post(post.pk)
    assert status == "tagged" and any("Berlin" in tag or "Globex" in tag for tag in event["tags"])


@pytest.mark.django_db(transaction=True)
def test_a_text_edited_back_to_an_earlier_text_ends_with_the_tags_of_its_current_text(settings):
    workspace = make_workspace()
    first, second = "Acme Corp moves billing to PostgreSQL", "Globex opens an office in Berlin"

    def tag_and_persist():
        status, event = pipeline.tag_post(post.pk)
        if event is not None:
            persistence.persist_tags(event)
        return status

    post = make_post(workspace, first)
    assert tag_and_persist() == "tagged"
    make_post(workspace, second)
    assert tag_and_persist() == "tagged"
    make_post(workspace, first)  # edited back within the dedup keys' 24 h
    assert tag_and_persist() == "tagged"
    post.refresh_from_db()
    assert post.revision == 2
    assert PostEnrichment.objects.get(post=post, kind="tags").data["tags"] == tagging.tag_text(first).tags
    # A redelivered run of the current revision is still skipped, by this worker and by another.
    assert tag_and_persist() == "cached"
    settings.MEMORY_POSTS_TAG_CACHE_SIZE = 7
    assert tag_and_persist() == "deduplicated"


@pytest.mark.django_db(transaction=True)
def test_an_event_about_a_text_the_post_no_longer_has_is_not_persisted():
    workspace = make_workspace()
    post = make_post(workspace, "Acme Corp moves billing to PostgreSQL")
    _, old = pipeline.tag_post(post.pk)
    make_post(workspace, "Globex opens an office in Berlin")
    _, new = pipeline.tag_post(post.pk)
    assert persistence.persist_tags(new) == "created"
    assert persistence.persist_tags(old) == "stale"  # persisted out of order: the older edit's tags lose
    assert PostEnrichment.objects.get(post=post).data["tags"] == new["tags"]


@pytest.mark.django_db(transaction=True)
def test_persist_tags_writes_a_row_once_and_rewrites_it_only_when_the_hash_changes():
    post = make_post(make_workspace())
    event = {"post_id": post.pk, "tags": ["Acme Corp"], "tags_hash": tagging.tags_hash(["Acme Corp"])}
    conflicts = value(metrics.TAGS_PERSIST_CONFLICTS)
    assert persistence.persist_tags(event) == "created"
    first = PostEnrichment.objects.get()
    assert persistence.persist_tags(event) == "unchanged"
    assert PostEnrichment.objects.get().updated_at == first.updated_at  # not rewritten
    changed = {**event, "tags": ["Acme Corp", "billing"], "tags_hash": tagging.tags_hash(["Acme Corp", "billing"])}
    assert persistence.persist_tags(changed) == "updated"
    row = PostEnrichment.objects.get()
    assert row.data["tags"] == ["Acme Corp", "billing"] and row.updated_at > first.updated_at
    assert value(metrics.TAGS_PERSIST_CONFLICTS) == conflicts + 2
    assert list(Post.objects.tagged_with("ACME  corp")) == [post]
    assert persistence.persist_tags({**event, "post_id": post.pk + 1000}) == "missing"


def test_the_llm_tagger_keeps_only_verbatim_tags(settings):
    from tests.memory.providers.test_openai_chat import ChatServer

    server = ChatServer()
    try:
        settings.MEMORY_LLM_URL, settings.MEMORY_LLM_MODEL, settings.MEMORY_LLM_PROVIDER = server.url, "m", "openai"
        server.answer({"tags": ["acme corp", "Oracle Database", "billing", 7]})
        result = tagging.tag_text("Acme Corp moves billing to PostgreSQL", tagger="llm")
        assert result.tags == ["Acme Corp", "billing"] and result.dropped == 2
        [request] = server.requests
        assert "verbatim" in request["body"]["messages"][0]["content"]
        assert "Acme Corp moves billing" in request["body"]["messages"][1]["content"]
    finally:
        server.close()


@pytest.mark.django_db(transaction=True)
def test_persist_tags_is_one_round_trip_whatever_the_outcome(django_assert_num_queries):
    post = make_post(make_workspace())
    event = {"post_id": post.pk, "tags": ["Acme Corp"], "tags_hash": tagging.tags_hash(["Acme Corp"]),
             "text_hash": post.text_hash}
    for expected in ("created", "unchanged"):
        with django_assert_num_queries(1):
            assert persistence.persist_tags(event) == expected
    with django_assert_num_queries(1):
        assert persistence.persist_tags({**event, "text_hash": "0" * 64}) == "stale"
    with django_assert_num_queries(1):
        assert persistence.persist_tags({**event, "post_id": post.pk + 1000}) == "missing"
