"""Search quality on a labelled set: hybrid search must beat full-text and vector search alone.

Run with -s to see the table of precision@1 and MRR@10 per method and per kind of query.
"""

import pytest

from memory.models import Memory
from memory.enrichment.embedding import embed_memories
from memory.search.hybrid import hybrid_search, text_ranking, vector_ranking
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.memory.search.labelled_set import KNOWN_ITEM_QUERIES, MEMORIES, RECORDS, THEME_QUERIES

pytestmark = pytest.mark.django_db

DEPTH = 10  # MRR counts a right answer down to this rank
METHODS = {
    "hybrid": lambda memories, q: [hit.memory for hit in hybrid_search(memories, q, limit=DEPTH)],
    "text": lambda memories, q: text_ranking(memories, q)[:DEPTH],
    "vector": lambda memories, q: vector_ranking(memories, q)[:DEPTH],
}


@pytest.fixture
def labelled():
    """The whole corpus in one project; the queries as {part: [(query, is_right(memory_pk))]}."""
    project = make_project(make_workspace())
    theme_of, content_of = {}, {}
    for corpus in (MEMORIES, RECORDS):
        for theme, texts in corpus.items():
            for text in texts:
                memory = make_memory(project, text)
                theme_of[memory.pk], content_of[memory.pk] = theme, text
    embed_memories(list(theme_of))

    def target(needle):
        found = [pk for pk, text in content_of.items() if needle in text]
        assert len(found) == 1, f"{needle!r} must name exactly one memory, found {len(found)}"
        return found[0]

    parts = {
        "theme": [(query, lambda pk, theme=theme: theme_of[pk] == theme)
                  for theme, queries in THEME_QUERIES.items() for query in queries],
        "known-item": [(query, lambda pk, wanted=target(needle): pk == wanted) for query, needle in KNOWN_ITEM_QUERIES],
    }
    parts["all"] = parts["theme"] + parts["known-item"]
    return Memory.objects.filter(project=project), parts


def measure(memories, cases, rank):
    """(precision@1, MRR@DEPTH) of `rank` over (query, is_right) cases."""
    first = reciprocal = 0.0
    for query, is_right in cases:
        found = [position for position, memory in enumerate(rank(memories, query), start=1) if is_right(memory.pk)]
        first += bool(found) and found[0] == 1
        reciprocal += 1 / found[0] if found else 0.0
    return first / len(cases), reciprocal / len(cases)


def scoreboard(memories, parts):
    """{part: {method: (p@1, mrr)}}, printed as a table (visible with -s)."""
    board = {part: {name: measure(memories, cases, rank) for name, rank in METHODS.items()}
             for part, cases in parts.items()}
    print(f"\n{'queries':<16}" + "".join(f"{name:>16}" for name in METHODS) + "   (precision@1 / MRR@10)")
    for part, scores in board.items():
        print(f"{part + f' ({len(parts[part])})':<16}" + "".join(f"{p1:>10.2f} / {mrr:.2f}" for p1, mrr in scores.values()))
    return board


def test_hybrid_search_ranks_a_same_theme_memory_first_for_90_percent_of_queries(labelled):
    memories, parts = labelled
    board = scoreboard(memories, {"theme": parts["theme"]})
    hybrid, text = board["theme"]["hybrid"][0], board["theme"]["text"][0]
    assert hybrid >= 0.90
    assert hybrid > text


def test_hybrid_search_beats_full_text_and_vector_search_alone(labelled):
    memories, parts = labelled
    board = scoreboard(memories, parts)
    hybrid, text, vector = (board["all"][name][0] for name in ("hybrid", "text", "vector"))
    assert hybrid >= 0.90
    assert hybrid > text
    assert hybrid > vector


@pytest.mark.parametrize("query, wanted", [
    ("INC-4412", "INC-4412 checkout"),  # Postgres indexes it as 'inc' and '-4412', not '4412'
    ("15.6", "to 15.6 on"),  # a version is one token, not 15 and 6
    ("db-prod-03.eu-west-1.internal", "db-prod-03"),  # and so is a host name
])
def test_full_text_matches_identifiers_as_postgres_indexed_them(query, wanted):
    project = make_project(make_workspace())
    for text in ("INC-4412 checkout returned 502s on db-prod-03.eu-west-1.internal after the upgrade to 15.6 on Monday.",
                 "INC-4413 checkout returned 502s on db-prod-04.eu-west-1.internal after the upgrade to 15.5 on Friday."):
        make_memory(project, text)
    found = text_ranking(Memory.objects.filter(project=project), query)
    assert [wanted in memory.content for memory in found] == [True]


def test_full_text_ignores_a_query_without_words():
    project = make_project(make_workspace())
    make_memory(project, "The cache is warm.")
    assert text_ranking(Memory.objects.filter(project=project), "  the ? ") == []
    assert text_ranking(Memory.objects.filter(project=project), "") == []


def test_search_only_sees_the_memories_it_is_given(labelled):
    memories, _ = labelled
    other = make_project(make_workspace("other"))
    secret = make_memory(other, "The primary Postgres node ran out of disk space.")
    embed_memories([secret.pk])
    hits = hybrid_search(memories, "postgres disk space", limit=10)
    assert secret.pk not in {h.memory.pk for h in hits}
