"""The text side's candidate budget (which terms select the rows that are scored, the row estimates), light candidates."""

import operator

import pytest
from django.db import connection

from memory.models import Memory
from memory.search import terms as search_terms
from memory.search.hybrid import candidate_terms, hybrid_search, text_ranking
from memory.search.terms import Term, query_terms
from tests.memory.factories import make_memory, make_project, make_workspace


def term(word, rows, table_rows=1000):
    return Term(f"'{word}'", (word,), 1.0, rows / table_rows, float(rows))


def words(selected):
    return [t.lexemes[0] for t in selected]


def test_the_rarest_terms_are_or_ed_while_their_rows_fit_the_budget():
    terms = [term("meet", 300), term("zanzibar", 2), term("week", 90), term("quokka", 5)]
    selected, join = candidate_terms(terms, budget=100)
    assert (words(selected), join) == (["zanzibar", "quokka", "week"], operator.or_)


def test_a_term_too_common_alone_is_and_ed_with_the_next_rarest_until_the_estimate_fits():
    terms = [term("work", 400), term("keiko", 250), term("now", 500)]
    # keiko alone: 250 rows; with work: 250 * 0.4 = 100; with now as well: 50.
    assert candidate_terms(terms, budget=120) == ([terms[1], terms[0]], operator.and_)
    assert candidate_terms(terms, budget=60) == ([terms[1], terms[0], terms[2]], operator.and_)


def test_without_row_estimates_or_without_a_budget_every_term_selects():
    unknown = [Term("'keiko'", ("keiko",)), Term("'work'", ("work",))]
    assert candidate_terms(unknown, budget=1) == (unknown, operator.or_)
    known = [term("work", 400), term("keiko", 250)]
    assert candidate_terms(known, budget=None) == (known, operator.or_)


@pytest.mark.django_db
class TestInTheDatabase:
    @pytest.fixture
    def project(self):
        return make_project(make_workspace())

    @staticmethod
    def analysed():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE memory_memory")
        search_terms.lexeme_frequencies.clear()

    def test_term_rows_are_estimated_from_the_analysed_table(self, project):
        for i in range(40):
            make_memory(project, f"Deploy number {i} went fine." if i % 4 else f"Kubernetes upgrade {i} went fine.")
        self.analysed()
        rows = {t.lexemes: t.rows for t in query_terms("deploy kubernetes", connection.alias)}
        assert rows[("deploy",)] == pytest.approx(30, abs=1)
        assert rows[("kubernet",)] == pytest.approx(10, abs=1)

    def test_a_small_budget_scores_only_the_memories_holding_the_frequent_terms_together(self, project):
        for i in range(30):
            make_memory(project, f"Went for a long walk by the river, day {i}.", metadata={"speaker": "Keiko"})
            make_memory(project, f"Work was busy again on day {i}.", metadata={"speaker": "Samir"})
        both = make_memory(project, "My work at the clinic is going well.", metadata={"speaker": "Keiko"})
        self.analysed()
        memories = Memory.objects.filter(project=project)
        assert [m.pk for m in text_ranking(memories, "Keiko work", limit=100, budget=5)] == [both.pk]
        unlimited = text_ranking(memories, "Keiko work", limit=100, budget=None)
        assert len(unlimited) == 61 and unlimited[0].pk == both.pk

    def test_a_small_budget_leaves_rows_holding_only_common_terms_to_the_vector_side(self, project):
        for i in range(20):
            make_memory(project, f"The weekly meeting {i} ran long.")
        rare = [make_memory(project, "Somebody mentioned Zanzibar at lunch."),
                make_memory(project, "A quokka photo went round the team.")]
        self.analysed()
        memories = Memory.objects.filter(project=project)
        assert {m.pk for m in text_ranking(memories, "meeting Zanzibar quokka", limit=100, budget=5)} == {
            m.pk for m in rare}
        assert len(text_ranking(memories, "meeting Zanzibar quokka", limit=100, budget=None)) == 22
        # hybrid_search passes its budget on: the common-only rows come from the vector side alone.
        hits = hybrid_search(memories, "meeting Zanzibar quokka", limit=30, budget=5)
        assert {hit.memory.pk for hit in hits if "text" in hit.ranks} == {m.pk for m in rare}

    def test_hybrid_search_returns_whole_memories_though_it_ranks_light_candidates(
            self, project, django_assert_num_queries):
        for i in range(3):
            make_memory(project, f"Quokka sighting number {i}.", metadata={"speaker": f"Speaker{i}"}, importance=0.3)
        hits = hybrid_search(Memory.objects.filter(project=project), "quokka sighting", limit=3)
        assert len(hits) == 3 and all(hit.memory.rank > 0 for hit in hits)
        with django_assert_num_queries(0):  # read in the one query that loads the hits, not one each
            assert sorted((hit.memory.metadata["speaker"], hit.memory.importance, hit.memory.layer) for hit in hits) == [
                (f"Speaker{i}", 0.3, "episodic") for i in range(3)]
