import hashlib
import re

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from memory.providers.decision_rubric import RUBRIC
from memory.providers.local_text import LocalTextGenerator, is_action, rank_by_mmr
from memory.providers.openai_chat import OpenAIChatGenerator
from memory.providers.sentences import split_sentences
from memory.providers.text_generation import (
    Answer,
    Assessment,
    Reflection,
    Summary,
    TextGenerator,
    Triple,
    get_text_generator,
)


def bag_of_words_embed(texts):
    """Hash each lowercase word into one of 256 buckets; rows have unit length."""
    vectors = np.zeros((len(texts), 256))
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            vectors[row, int(hashlib.sha1(word.encode()).hexdigest(), 16) % 256] += 1.0
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@pytest.fixture
def local():
    return LocalTextGenerator(embed=bag_of_words_embed)


OUTAGE = [
    "The Postgres cluster ran out of disk on Monday. Bob restarted the Postgres cluster at noon. "
    "Disk usage on the Postgres cluster grows five percent a week.",
    "Lunch was pizza again. We should add disk alerts to the Postgres cluster.",
    "TODO: email Alice about the storage budget. Can we afford a bigger disk?\nFix CI",
]


# Sentences

def test_sentences_split_on_terminals_and_lines_but_not_abbreviations():
    text = "Dr. Smith works at Acme Inc. in Zürich.  He founded   Globex!\n- fix the build e.g. the CI job\nOK?"

    assert split_sentences(text) == [
        "Dr. Smith works at Acme Inc. in Zürich.",
        "He founded   Globex!",
        "fix the build e.g. the CI job",
        "OK?",
    ]


# Summaries

def test_summary_picks_central_sentences_in_their_original_order(local):
    summary = local.summarize(OUTAGE, max_sentences=2)

    assert isinstance(summary, Summary)
    sentences = split_sentences(summary.summary)
    assert len(sentences) == 2
    everything = [sentence for text in OUTAGE for sentence in split_sentences(text)]
    assert all(sentence in everything for sentence in sentences)
    assert [everything.index(s) for s in sentences] == sorted(everything.index(s) for s in sentences)
    assert "Lunch was pizza again." not in summary.summary
    assert summary.source_indexes == sorted(set(summary.source_indexes))
    assert all(any(point in text for text in OUTAGE) for point in summary.key_points)


def test_summary_skips_a_sentence_that_repeats_one_already_chosen(local):
    texts = [
        "The billing service moved to Kubernetes last week.",
        "The billing service moved to Kubernetes last week!",
        "The billing service moved to Kubernetes last week, says Bob.",
        "Checkout latency dropped after the billing move.",
    ]

    summary = local.summarize(texts, max_sentences=2)

    assert "Checkout latency dropped after the billing move." in summary.summary
    assert summary.source_indexes[-1] == 3


def test_mmr_trades_relevance_for_novelty():
    vectors = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.6, 0.8], [0.8, 0.0, 0.6]])

    by_relevance_only = rank_by_mmr(vectors, 3, diversity_lambda=1.0, max_similarity=1.01)
    with_mmr = rank_by_mmr(vectors, 3, diversity_lambda=0.5, max_similarity=1.01)

    assert by_relevance_only == [3, 1, 0]
    assert with_mmr == [3, 1, 2]


def test_mmr_never_picks_a_near_copy_of_a_chosen_row():
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]])

    assert rank_by_mmr(vectors, 3, diversity_lambda=0.9) == [1, 2]


def test_summaries_are_deterministic_and_bounded(local):
    assert local.summarize(OUTAGE, 2) == local.summarize(OUTAGE, 2)
    assert len(split_sentences(local.summarize(OUTAGE, 10).summary)) <= 7


def test_empty_input_gives_an_empty_summary(local):
    assert local.summarize([], 3) == Summary("", [], [])
    assert local.summarize(["", "   "], 3) == Summary("", [], [])
    with pytest.raises(ValueError):
        local.summarize(OUTAGE, 0)


def test_short_texts_are_still_summarised(local):
    assert local.summarize(["Ship it.", "OK"], 1).summary in ("Ship it.", "OK")


def test_an_embed_of_the_wrong_shape_is_refused():
    generator = LocalTextGenerator(embed=lambda texts: np.ones((1, 4)))

    with pytest.raises(ValueError, match="shape"):
        generator.summarize(OUTAGE, 2)


# Answers

def test_an_answer_quotes_the_passage_sentences_closest_to_the_question_first(local):
    answer = local.answer("Who restarted the Postgres cluster?", OUTAGE)

    assert isinstance(answer, Answer)
    sentences = split_sentences(answer.text)
    assert sentences[0] == "Bob restarted the Postgres cluster at noon."
    assert 1 <= len(sentences) <= 3
    everything = {s: i for i, text in enumerate(OUTAGE) for s in split_sentences(text)}
    assert all(sentence in everything for sentence in sentences)
    assert answer.source_indexes == sorted({everything[sentence] for sentence in sentences})
    assert "Lunch was pizza again." not in answer.text
    assert local.answer("Who restarted the Postgres cluster?", OUTAGE) == answer


def test_an_answer_leaves_out_sentences_far_less_relevant_than_the_best(local):
    answer = local.answer("Who should email Alice about the storage budget?", OUTAGE)

    assert answer == Answer("TODO: email Alice about the storage budget.", [2])


def test_an_answer_ranks_by_the_question_not_by_what_the_passages_mostly_say(local):
    # Three of the four passages are about the cluster; a summary would quote them.
    answer = local.answer("What was for lunch?", [*OUTAGE[:2], "Lunch was pizza again, then tacos.", OUTAGE[2]])

    assert split_sentences(answer.text)[0] in ("Lunch was pizza again.", "Lunch was pizza again, then tacos.")
    assert set(answer.source_indexes) <= {1, 2}


def test_an_empty_question_or_no_passages_give_an_empty_answer(local):
    assert local.answer("", OUTAGE) == Answer("", [])
    assert local.answer("Who restarted the cluster?", []) == Answer("", [])
    assert local.answer("Who restarted the cluster?", ["", "  "]) == Answer("", [])


# Reflection and actions

@pytest.mark.parametrize(
    "sentence",
    [
        "We should add disk alerts.",
        "TODO: email Alice",
        "Let's move the standup to 10am.",
        "Action item: Bob renews the certificate.",
        "Follow up with legal about the contract.",
        "We need to rotate the API keys.",
        "Fix the flaky checkout test.",
        "I'll send the minutes tonight.",
    ],
)
def test_sentences_that_ask_for_work_are_actions(sentence):
    assert is_action(sentence)


@pytest.mark.parametrize(
    "sentence", ["Lunch was pizza again.", "Should we move the standup?", "The cluster restarted at noon."]
)
def test_statements_and_questions_are_not_actions(sentence):
    assert not is_action(sentence)


def test_reflection_separates_insights_from_actions(local):
    reflection = local.reflect(OUTAGE)

    assert isinstance(reflection, Reflection)
    assert reflection.actions == [
        "We should add disk alerts to the Postgres cluster.",
        "TODO: email Alice about the storage budget.",
        "Fix CI",
    ]
    assert reflection.insights
    assert not set(reflection.insights) & set(reflection.actions)
    assert 1 <= len(split_sentences(reflection.summary)) <= 3
    assert local.reflect([]) == Reflection("", [], [])
    assert local.reflect(OUTAGE) == reflection


# Triples

EXPECTED_TRIPLES = [
    ("Alice Smith is the CEO of Acme Corp.", ("Alice Smith", "ceo_of", "Acme Corp")),
    ("Bob works at Globex.", ("Bob", "works_at", "Globex")),
    ("Carol works for the Bank of America.", ("Carol", "works_at", "Bank of America")),
    ("Yesterday Carol founded Initech.", ("Carol", "founded", "Initech")),
    ("Acme acquired Globex in 2021.", ("Acme", "acquired", "Globex")),
    ("Globex was acquired by Acme Corp.", ("Acme Corp", "acquired", "Globex")),
    ("In 2019 Ivan bought Soylent.", ("Ivan", "acquired", "Soylent")),
    ("Postgres is an open-source relational database.", ("Postgres", "is_a", "open-source relational database")),
    ("Acme is a software company based in Zürich.", ("Acme", "is_a", "software company")),
    ("Müller Bau is located in München.", ("Müller Bau", "located_in", "München")),
    ("Dave, the CTO of Umbrella, spoke first.", ("Dave", "cto_of", "Umbrella")),
    ("Hooli's CEO, Gavin Belson, spoke.", ("Gavin Belson", "ceo_of", "Hooli")),
    ("Heidi, co-founder of Acme, spoke.", ("Heidi", "founded", "Acme")),
    ("Frank leads the Platform Team.", ("Frank", "leads", "Platform Team")),
    ("Grace manages Engram.", ("Grace", "manages", "Engram")),
    ("Engram uses Redis.", ("Engram", "uses", "Redis")),
    ("Initech owns Penetrode.", ("Initech", "owns", "Penetrode")),
    ("Grace reports to Alice Smith.", ("Grace", "reports_to", "Alice Smith")),
    ("Mallory joined Hooli.", ("Mallory", "joined", "Hooli")),
    ("Trent created Pied Piper.", ("Trent", "created", "Pied Piper")),
]


@pytest.mark.parametrize("sentence,expected", EXPECTED_TRIPLES, ids=[s for s, _ in EXPECTED_TRIPLES])
def test_patterns_find_the_stated_fact(local, sentence, expected):
    triples = local.extract_triples(sentence)

    assert [(t.subject, t.predicate, t.object) for t in triples] == [expected]
    assert 0 < triples[0].confidence <= 1


@pytest.mark.parametrize(
    "sentence",
    ["It is a nice day.", "Is Alice the CEO of Acme?", "The team uses a spreadsheet.", "Alice is not a manager.", ""],
)
def test_no_fact_is_made_up(local, sentence):
    assert local.extract_triples(sentence) == []


def test_hedged_facts_get_less_confidence(local):
    [certain] = local.extract_triples("Erin works for Acme.")
    [hedged] = local.extract_triples("Maybe Erin works for Acme.")

    assert (hedged.subject, hedged.object) == ("Erin", "Acme")
    assert hedged.confidence < certain.confidence


def test_triples_come_in_text_order_without_duplicates(local):
    text = "Acme acquired Globex. Bob works at Acme. Globex was acquired by Acme."

    triples = local.extract_triples(text)

    assert [(t.subject, t.predicate, t.object) for t in triples] == [
        ("Acme", "acquired", "Globex"),
        ("Bob", "works_at", "Acme"),
    ]
    assert triples[0].confidence == 0.85  # the active statement's confidence wins
    assert all(isinstance(t, Triple) for t in triples)


# Decision rubric

GOOD_DECISION = dict(
    title="Store memories in Postgres",
    context="We need one store for memories with vector search and transactions, and a team of two "
    "people who cannot run many systems.",
    options=["Postgres with pgvector", "MongoDB Atlas", "Qdrant"],
    chosen="Postgres with pgvector",
    rationale="Because pgvector gives us vector search inside the database we already run; Qdrant would "
    "be faster for large indexes but adds a second system, and MongoDB Atlas costs more. The risk is "
    "index build time.",
    owner="alice",
    decided_on="2025-03-01",
)


def test_the_rubric_weights_add_up_to_one():
    assert sum(criterion.weight for criterion in RUBRIC) == pytest.approx(1.0)


def test_a_complete_decision_scores_full_marks(local):
    assessment = local.assess_decision(**GOOD_DECISION)

    assert assessment == Assessment(1.0, [])


def test_an_empty_decision_scores_zero_and_says_what_is_missing(local):
    assessment = local.assess_decision("", "", [], "", "")

    assert assessment.score == 0
    text = " ".join(assessment.findings)
    for missing in ("title", "context", "options", "chosen", "rationale", "trade-offs", "owner", "date"):
        assert missing in text.lower()


def test_each_missing_element_costs_its_weight_and_is_explained(local):
    without_owner = local.assess_decision(**{**GOOD_DECISION, "owner": ""})
    assert without_owner.score == pytest.approx(0.95)
    assert without_owner.findings == ["No owner: record who made or owns the decision."]

    off_list = local.assess_decision(**{**GOOD_DECISION, "chosen": "SQLite"})
    assert off_list.score < 1
    assert "The chosen option 'SQLite' is not one of the options considered." in off_list.findings

    one_option = local.assess_decision(**{**GOOD_DECISION, "options": ["Postgres with pgvector"]})
    assert any("Only one option" in finding for finding in one_option.findings)

    no_reason = local.assess_decision(**{**GOOD_DECISION, "rationale": "Postgres with pgvector is good."})
    assert any("no explicit reason" in finding for finding in no_reason.findings)
    assert any("short" in finding for finding in no_reason.findings)


def test_owner_and_date_can_come_from_the_text(local):
    assessment = local.assess_decision(
        **{**GOOD_DECISION, "owner": "", "decided_on": "", "context": GOOD_DECISION["context"] + " Owner: @bob, March 3."}
    )

    assert assessment.score == 1.0


def test_assessment_is_deterministic(local):
    assert local.assess_decision(**GOOD_DECISION) == local.assess_decision(**GOOD_DECISION)


# The factory

def test_the_default_generator_is_local(settings):
    for name in ("MEMORY_LLM_PROVIDER", "MEMORY_LLM_URL", "MEMORY_LLM_MODEL"):
        if hasattr(settings, name):
            delattr(settings, name)

    generator = get_text_generator(embed=bag_of_words_embed)

    assert isinstance(generator, LocalTextGenerator)
    assert isinstance(generator, TextGenerator)


def test_the_openai_generator_is_built_from_settings(settings):
    settings.MEMORY_LLM_PROVIDER = "openai"
    settings.MEMORY_LLM_URL = "http://127.0.0.1:11434/v1"
    settings.MEMORY_LLM_MODEL = "llama3.2"
    settings.MEMORY_LLM_API_KEY = "secret"
    settings.MEMORY_LLM_TIMEOUT_SECONDS = 5

    generator = get_text_generator()

    assert isinstance(generator, OpenAIChatGenerator)
    assert isinstance(generator, TextGenerator)
    assert generator.endpoint == "http://127.0.0.1:11434/v1/chat/completions"
    assert (generator.model, generator.api_key, generator.timeout) == ("llama3.2", "secret", 5.0)


@pytest.mark.parametrize("name,value", [("MEMORY_LLM_PROVIDER", "gpt"), ("MEMORY_LLM_TIMEOUT_SECONDS", 0)])
def test_bad_settings_are_improperly_configured(settings, name, value):
    setattr(settings, name, value)

    with pytest.raises(ImproperlyConfigured):
        get_text_generator()
