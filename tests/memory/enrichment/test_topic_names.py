"""Topic names: no measures, numbers or catch-all nouns; near-duplicates merged into one topic."""

import pytest

from memory.enrichment.topic_extraction import assign_topics
from memory.models import Topic
from memory.providers.keywords import extract_keyphrases, is_topic_head, phrase_key
from tests.memory.factories import make_memory, make_project, make_workspace


@pytest.mark.parametrize("text, dropped", [
    ("Conversion went up 20 percent after the checkout redesign.", {"percent", "20 percent"}),
    ("The front end and the back end both need the new login flow by the end of the sprint.", {"end"}),
    ("We shipped 2024 builds and fifteen hotfixes; the thing is, the rollout took 300 ms per node.",
     {"2024", "thing", "ms", "300 ms"}),
])
def test_measures_numbers_and_catch_all_nouns_are_not_topics(text, dropped):
    phrases = {k.phrase for k in extract_keyphrases(text, max_phrases=10)}
    assert phrases and not phrases & dropped


@pytest.mark.parametrize("word, expected", [
    ("migration", True), ("end", False), ("percent", False), ("weeks", False), ("twenty", False), ("2024", False),
])
def test_is_topic_head(word, expected):
    assert is_topic_head(word) is expected


def test_phrase_key_folds_case_and_plurals():
    assert phrase_key("Schema Migrations") == phrase_key("schema migration")
    assert phrase_key("Postgres") == phrase_key("postgres")
    assert phrase_key("Policies") == phrase_key("policy")
    assert phrase_key("status") != phrase_key("statu")  # "-us" is no plural


@pytest.mark.django_db
def test_near_duplicate_topic_names_become_one_topic():
    project = make_project(make_workspace())
    first = make_memory(project, "The schema migrations for the billing tables are ready.")
    second = make_memory(project, "A schema migration for the billing tables failed overnight.")
    assign_topics(first)
    assign_topics(second)
    names = [name.casefold() for name in Topic.objects.filter(project=project).values_list("name", flat=True)]
    assert len([name for name in names if phrase_key(name) == "schema migration"]) == 1
    assert set(first.topics.all()) & set(second.topics.all())


@pytest.mark.django_db
def test_a_phrase_does_not_hang_under_a_catch_all_head():
    project = make_project(make_workspace())
    memory = make_memory(project, "The front end team rewrote the checkout front end in a week.")
    assign_topics(memory)
    assert not Topic.objects.filter(project=project, name__iexact="end").exists()
