"""Both rankings in one statement: the same hits as the rankings read apart, two statements a search, the HNSW settings."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memory.enrichment.embedding import embed_memories
from memory.models import Memory
from memory.providers.embeddings import get_embedding_provider
from memory.search import hybrid, statement
from memory.search.terms import parsed_words
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db

TEXTS = [
    "We adopted a beagle puppy last weekend and named him Biscuit.",
    "Biscuit chewed through the garden hose this morning.",
    "The quarterly report on the Postgres ledger is due on Friday.",
    "Alice started cello lessons with a teacher from the conservatory.",
    "Haha, totally.",
    "A little dachshund called Pickles joined our family.",
    "The deploy of the search service failed twice before lunch.",
    "I finally booked the flight to Edinburgh for the half marathon.",
]


@pytest.fixture
def project():
    return make_project(make_workspace())


@pytest.fixture
def memories(project):
    for i, text in enumerate(TEXTS):
        make_memory(project, text, metadata={"speaker": ["Alice", "Bruno"][i % 2]})
    embed_memories(list(Memory.objects.filter(project=project).values_list("pk", flat=True)))
    return Memory.objects.filter(project=project)


@pytest.mark.parametrize("query", ["What did Alice name her new dog?", "Bruno puppy garden", "deploy failed",
                                   "the a of", "Edinburgh marathon flight"])
def test_the_one_statement_finds_what_the_rankings_read_apart_find(memories, query):
    def hits(found):
        return [(hit.memory.pk, pytest.approx(hit.score), hit.ranks, pytest.approx(hit.memory.similarity))
                for hit in found]

    assert hits(hybrid.hybrid_search(memories, query)) == hits(hybrid.hybrid_search_apart(memories, query))


def test_a_search_is_two_statements_once_its_words_are_known(memories, django_assert_num_queries):
    hybrid.hybrid_search(memories, "Who adopted the beagle puppy?")  # parses the words, reads ANALYZE's figures
    with django_assert_num_queries(2):  # the candidates of both rankings, then the hits whole
        hits = hybrid.hybrid_search(memories, "Who adopted the beagle puppy?")
    assert hits[0].memory.content == TEXTS[0]
    with django_assert_num_queries(3):  # a word not seen before: one more, for all of them
        hybrid.hybrid_search(memories, "Which puppy chewed the hose?")


def test_words_are_parsed_by_postgres_once_per_process():
    parsed_words.clear()
    with CaptureQueriesContext(connection) as first:
        assert parsed_words.get(["Running", "the", "Running"], connection.alias) == {"Running": ("run",), "the": ()}
    with CaptureQueriesContext(connection) as again:
        assert parsed_words.get(["the", "Running"], connection.alias) == {"Running": ("run",), "the": ()}
    assert (len(first), len(again)) == (1, 0)


def test_the_vector_side_scans_on_past_the_rows_the_scope_filters_out():
    """HNSW returns hnsw.ef_search neighbours, then the scope filters them: without the statement's
    iterative scan, a small project beside a big one nearer the query gets none of its memories."""
    query = get_embedding_provider().embed(["quokka"])[0]
    rng = np.random.default_rng(7)
    near, far = make_project(make_workspace("near")), make_project(make_workspace("far"))
    for project, count, sign in ((near, 150, 1.0), (far, 30, -1.0)):
        for i in range(count):
            vector = sign * query + rng.normal(0, 0.05, query.shape)
            memory = make_memory(project, f"Memory number {i}.")
            Memory.objects.filter(pk=memory.pk).update(embedding=(vector / np.linalg.norm(vector)).tolist())
    scoped = Memory.objects.filter(project=far)
    with connection.cursor() as cursor:  # the plan a big table gets: the HNSW scan, no sort
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    with CaptureQueriesContext(connection) as captured:
        found = statement.candidates(scoped, [], None, query, per_term=hybrid.per_term_sql(), text_pool=200,
                                     text_limit=50, vector_limit=100, ef_search=100)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured[0]["sql"])
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Index Scan using memory_embedding_hnsw" in plan
    assert (len(found["text"]), len(found["vector"])) == (0, 30)


def test_the_query_vector_is_sent_exactly_as_pgvector_stores_it():
    vector = np.random.default_rng(3).normal(0, 0.05, 384).astype(np.float32)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::vector::real[]", [statement.vector_literal(vector)])
        stored = np.array(cursor.fetchone()[0], dtype=np.float32)
    np.testing.assert_array_equal(stored, vector)


@pytest.mark.parametrize("nothing", [Memory.objects.none, lambda: Memory.objects.filter(pk__in=[])])
def test_a_scope_that_can_hold_no_memory_finds_none(memories, nothing, django_assert_num_queries):
    hybrid.hybrid_search(memories, "beagle puppy")  # the words parsed
    with django_assert_num_queries(0):
        assert hybrid.hybrid_search(nothing(), "beagle puppy") == []
