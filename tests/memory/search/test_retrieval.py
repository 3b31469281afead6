"""Retrieval: term rarity, speaker and day in the text ranking, short turns on the vector side, fusion."""

from datetime import datetime, timezone

import pytest
from django.db import connection

from memory.enrichment.embedding import embed_memories
from memory.models import Memory
from memory.search import terms as search_terms
from memory.search.fusion import fuse_scores
from memory.search.hybrid import hybrid_search, text_ranking, vector_ranking
from memory.search.terms import date_terms, query_terms
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_project(make_workspace())


def analysed():
    """Refresh ANALYZE's lexeme frequencies and forget the cached ones."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_memory")
    search_terms.lexeme_frequencies.clear()


def texts(found):
    return [memory.content for memory in found]


def test_the_speaker_a_question_names_is_searchable(project):
    for speaker in ("Bruno", "Alice", "Chiara"):
        make_memory(project, "I've been learning to play the cello.", metadata={"speaker": speaker})
    found = text_ranking(Memory.objects.filter(project=project), "What instrument is Alice learning?")
    assert [memory.metadata["speaker"] for memory in found][:1] == ["Alice"]


def test_the_author_is_searchable_too(project):
    make_memory(project, "Shipped the release.", metadata={"author": "Dmitri"})
    make_memory(project, "Shipped the release.", metadata={"author": "Elena"})
    found = text_ranking(Memory.objects.filter(project=project), "what did Elena ship")
    assert found[0].metadata["author"] == "Elena"


def test_a_date_in_the_query_finds_that_days_memories(project):
    for day in (7, 8, 9):
        make_memory(project, "We talked about the garden.", created_at=datetime(2023, 5, day, 18, tzinfo=timezone.utc))
    memories = Memory.objects.filter(project=project)
    for query in ("What about the garden on 8 May 2023?", "garden May 8, 2023", "garden 2023-05-08"):
        assert text_ranking(memories, query)[0].created_at.day == 8, query


@pytest.mark.parametrize("query, rest, lexemes", [
    ("on 8 May 2023?", "on ?", ["'d20230508'"]),
    ("the 21st of September, 2022", "the", ["'d20220921'"]),
    ("Sept. 3 2024 and in March 2021", "and in", ["'d20240903'", "'m202103'"]),
    ("2023-05-08", "", ["'d20230508'"]),
    ("may we meet on 40 May 2023", "may we meet on 40", ["'m202305'"]),  # no 40th: the month
    ("may we meet at 2023", "may we meet at 2023", []),
])
def test_dates_in_a_query_become_day_or_month_terms(query, rest, lexemes):
    left, found = date_terms(query)
    assert (" ".join(left.split()), [term.text for term in found]) == (rest, lexemes)


def test_a_rare_word_outweighs_a_common_one(project):
    for i in range(40):
        make_memory(project, f"The weekly meeting number {i} ran long again, as every meeting does.")
    make_memory(project, "The meeting about the meeting ran long; meeting notes are in the meeting folder.")
    make_memory(project, "Somebody mentioned Zanzibar once, in passing, without further notes or folder.")
    analysed()
    found = text_ranking(Memory.objects.filter(project=project), "meeting Zanzibar")
    assert "Zanzibar" in found[0].content


def test_query_terms_are_weighted_by_rarity(project):
    for i in range(30):
        make_memory(project, f"Deploy number {i} went fine.")
    make_memory(project, "The Kubernetes upgrade went fine.")
    analysed()
    weights = {term.lexemes: term.weight for term in query_terms("deploy kubernetes", connection.alias)}
    assert weights[("kubernet",)] > 2 * weights[("deploy",)]


def test_quotes_and_backslashes_in_a_query_are_searched_not_parsed(project):
    make_memory(project, "O'Brien's laptop is at C:\\temp\\laptop.")
    found = text_ranking(Memory.objects.filter(project=project), "O'Brien's 'laptop' C:\\temp\\ (ok) & !x | <->")
    assert texts(found) == ["O'Brien's laptop is at C:\\temp\\laptop."]


def test_the_vector_ranking_discounts_very_short_turns(project):
    short = make_memory(project, "Puppy!")
    long = make_memory(project, "We adopted a beagle puppy last weekend and named him Biscuit.")
    embed_memories([short.pk, long.pk])
    found = vector_ranking(Memory.objects.filter(project=project), "puppy")
    assert [memory.pk for memory in found] == [long.pk, short.pk]
    assert found[0].similarity > found[1].similarity


def test_hybrid_search_scores_both_signals_for_every_candidate(project):
    alice = make_memory(project, "A little dachshund called Pickles joined our family.", metadata={"speaker": "Alice"})
    bruno = make_memory(project, "A little dachshund called Waffles joined our family.", metadata={"speaker": "Bruno"})
    for i in range(5):
        make_memory(project, f"Cleaning the flat is the plan for weekend number {i}.", metadata={"speaker": "Alice"})
    embed_memories(list(Memory.objects.filter(project=project).values_list("pk", flat=True)))
    hits = hybrid_search(Memory.objects.filter(project=project), "What did Alice name her new dog?", limit=3)
    assert hits[0].memory.pk == alice.pk
    assert set(hits[0].ranks) == {"text", "vector"}
    assert bruno.pk not in {hit.memory.pk for hit in hits}  # the right dog, but not Alice's


def test_fusion_keeps_a_hit_one_signal_is_sure_of_ahead_of_a_middling_one():
    text = {1: 9.0, 2: 1.0, 3: 0.9}
    vector = {3: 0.60, 2: 0.58, 1: 0.41}
    fused = fuse_scores({"text": text, "vector": vector})
    assert max(fused, key=fused.get) in (1, 3)
    assert fused[2] < max(fused[1], fused[3])
