"""Search over documents and memories together: snippets, scoping, cache and its invalidation, query log."""

import pytest

from memory.documents import search, validation
from memory.documents.models import SearchQueryLog, ValidationStatus, ValidationTask
from memory.documents.tasks import process_document
from tests.memory.factories import make_memory, make_project

from . import samples
from .factories import make_validator, make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def indexed(work):
    """A workspace with a processed HTML document and an embedded memory, and a member."""
    from memory.tasks import update_embeddings

    workspace = make_workspace()
    member = make_validator(workspace, "alice")
    document = upload(workspace, samples.NAV_HTML.encode(), "review.html")
    memory = make_memory(make_project(workspace), "Carol said the object storage migration starts in May.")
    process_document.enqueue(document.pk)
    update_embeddings.enqueue(memory.pk)
    work()
    return workspace, member, document, memory


def test_it_finds_documents_and_memories_together_with_highlighted_snippets(indexed):
    workspace, member, document, memory = indexed
    results, cached = search.search(member, "object storage")
    kinds = {(r["kind"], r["id"]) for r in results}
    assert ("document", document.pk) in kinds and ("memory", memory.pk) in kinds
    hit = next(r for r in results if r["kind"] == "document")
    assert "<mark>" in hit["snippet"] and hit["title"] == "Incident review"
    assert not cached


def test_outsiders_see_nothing_and_rejected_chunks_drop_out(indexed, settings):
    from tests.users import make_outsider

    workspace, member, document, _ = indexed
    assert search.search(make_outsider(), "object storage") == ([], False)
    settings.MEMORY_DOCUMENTS_VALIDATION_THRESHOLD = 1.0
    validation.create_validation_tasks(document)
    for task in ValidationTask.objects.all():
        validation.decide(task, member, ValidationStatus.REJECTED)
    results, _ = search.search(member, "disk space backup")
    assert all(r["kind"] != "document" for r in results)


def test_results_are_cached_until_a_document_of_the_workspace_changes(indexed, work):
    workspace, member, document, _ = indexed
    first, cached = search.search(member, "billing database")
    assert not cached and first
    again, cached = search.search(member, "billing  DATABASE")
    assert cached and again == first
    other = upload(workspace, b"The billing database moved to a new host in March.", "move.txt")
    process_document.enqueue(other.pk)
    work()
    fresh, cached = search.search(member, "billing database")
    assert not cached and any(r["id"] == other.pk for r in fresh if r["kind"] == "document")


def test_every_query_is_logged_for_analytics(indexed):
    from memory.documents.admin import search_analytics

    _, member, _, _ = indexed
    for query in ("billing database", "billing database", "zzzqqq"):
        search.search(member, query)
    logs = list(SearchQueryLog.objects.order_by("created_at"))
    assert [(log.query, log.cached) for log in logs] == [("billing database", False), ("billing database", True),
                                                         ("zzzqqq", False)]
    analytics = search_analytics()
    assert analytics["top_queries"][0] == {"query": "billing database", "count": 2, "zero": 0}
    assert [row["query"] for row in analytics["zero_result_queries"]] == ["zzzqqq"]


def test_snippets_escape_the_documents_markup_and_mark_only_the_hits():
    assert search.highlight("a <script>x</script> \x02backup\x03 b") == (
        "a &lt;script&gt;x&lt;/script&gt; <mark>backup</mark> b")


def test_deleting_a_document_drops_it_from_cached_searches(indexed, work):
    workspace, member, document, memory = indexed
    first, cached = search.search(member, "object storage")
    assert not cached and ("document", document.pk) in {(r["kind"], r["id"]) for r in first}
    assert search.search(member, "object storage") == (first, True)
    document.delete()
    after, cached = search.search(member, "object storage")
    assert not cached and all(r["kind"] != "document" for r in after)
    assert ("memory", memory.pk) in {(r["kind"], r["id"]) for r in after}


def test_a_bulk_delete_inside_a_transaction_invalidates_when_it_commits(indexed):
    from django.db import transaction

    from memory.documents.models import Document

    workspace, member, document, _ = indexed
    search.search(member, "object storage")
    with transaction.atomic():
        Document.objects.filter(workspace=workspace).delete()  # the admin's delete_selected does this
        # Not committed yet: the version is bumped only on commit, so the cache still answers.
        assert search.search(member, "object storage")[1]
    after, cached = search.search(member, "object storage")
    assert not cached and all(r["kind"] != "document" for r in after)
