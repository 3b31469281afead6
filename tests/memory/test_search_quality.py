"""Search quality on a labelled set: hybrid RRF ranks a same-theme memory first for >= 90% of queries."""

import pytest

from memory.models import Memory
from memory.services.embedding import embed_memories
from memory.services.search import hybrid_search, text_ranking, vector_ranking
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.memory.labelled_set import MEMORIES, QUERIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled():
    project = make_project(make_workspace())
    theme_of = {}
    for theme, texts in MEMORIES.items():
        for text in texts:
            theme_of[make_memory(project, text).pk] = theme
    embed_memories(list(theme_of))
    return project, theme_of


def precision_at_1(rank, theme_of):
    hits = total = 0
    for theme, queries in QUERIES.items():
        for query in queries:
            top = rank(query)
            total += 1
            hits += bool(top) and theme_of[top[0].pk] == theme
    return hits / total


def test_hybrid_search_ranks_a_same_theme_memory_first_for_90_percent_of_queries(labelled):
    project, theme_of = labelled
    memories = Memory.objects.filter(project=project)
    hybrid = precision_at_1(lambda q: [h.memory for h in hybrid_search(memories, q, limit=5)], theme_of)
    text = precision_at_1(lambda q: text_ranking(memories, q), theme_of)
    vector = precision_at_1(lambda q: vector_ranking(memories, q), theme_of)
    print(f"precision@1 over {sum(map(len, QUERIES.values()))} queries: hybrid={hybrid:.2f} "
          f"text={text:.2f} vector={vector:.2f}")
    assert hybrid >= 0.90
    assert hybrid > text
    # Not asserted: on this set vector search alone scored 1.00 and hybrid 0.95 (precision@1,
    # 20 paraphrased queries). "Better than either alone" is not shown yet; see the closing note.


def test_search_only_sees_the_memories_it_is_given(labelled):
    project, _ = labelled
    other = make_project(make_workspace("other"))
    secret = make_memory(other, "The primary Postgres node ran out of disk space.")
    embed_memories([secret.pk])
    hits = hybrid_search(Memory.objects.filter(project=project), "postgres disk space", limit=10)
    assert secret.pk not in {h.memory.pk for h in hits}
