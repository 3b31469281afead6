import socket
import time

import pytest

from memory.providers.keywords import Keyphrase, Topic, extract_keyphrases, extract_topics, locate_phrase


def assert_verbatim(phrases, text):
    for keyphrase in phrases:
        assert keyphrase.phrase in text, keyphrase


def test_every_phrase_is_an_exact_substring_with_the_texts_casing_and_spacing():
    text = (
        "Alice   Smith joined ACME Corp in Zürich.  The Zürich office, led by Bob, builds "
        "Machine-Learning tools; ACME corp is growing!"
    )

    phrases = extract_keyphrases(text)

    assert phrases and len(phrases) <= 8
    assert_verbatim(phrases, text)
    found = [keyphrase.phrase for keyphrase in phrases]
    # YAKE answers "Alice Smith"; the text has three spaces, and that is what comes back.
    assert "Alice   Smith" in found
    assert "ACME Corp" in found
    assert all(isinstance(keyphrase, Keyphrase) for keyphrase in phrases)


def test_a_three_word_phrase_keeps_its_original_form():
    text = "The Vector Search Engine is slow. We profile the Vector Search Engine daily."

    found = [keyphrase.phrase for keyphrase in extract_keyphrases(text, max_phrases=10)]

    assert "Vector Search Engine" in found
    assert any(len(phrase.split()) == 3 for phrase in found)


def test_non_ascii_words_are_found_verbatim():
    text = "Die Zürcher Kantonalbank eröffnet eine Filiale in Zürich. Die Kantonalbank wächst."

    phrases = extract_keyphrases(text, language="de")

    assert_verbatim(phrases, text)
    assert "Zürich" in [keyphrase.phrase for keyphrase in phrases]


def test_punctuation_does_not_leak_into_phrases():
    text = "We can't ship v2.0 until the API-gateway (gateway) is fixed!!! Really, the API-gateway?"

    phrases = extract_keyphrases(text)

    assert_verbatim(phrases, text)
    assert "API-gateway" in [keyphrase.phrase for keyphrase in phrases]
    for keyphrase in phrases:
        assert keyphrase.phrase == keyphrase.phrase.strip(" ,.!?()")


def test_phrases_do_not_span_line_breaks():
    text = "Deploy Postgres\nCluster upgrades wait\nPostgres Cluster is fine"

    for keyphrase in extract_keyphrases(text, max_phrases=20):
        assert "\n" not in keyphrase.phrase


def test_scores_are_in_the_unit_interval_and_best_first():
    phrases = extract_keyphrases("Deploy the new Postgres cluster on Friday. The Postgres cluster needs pgvector.")

    scores = [keyphrase.score for keyphrase in phrases]
    assert all(0 < score <= 1 for score in scores)
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("text", ["", "   ", "a", "hi", "!!! ...", "42", "\n\n"])
def test_empty_or_trivial_text_gives_no_phrases(text):
    assert extract_keyphrases(text) == []


def test_a_single_word_is_its_own_keyphrase():
    assert [keyphrase.phrase for keyphrase in extract_keyphrases("Postgres")] == ["Postgres"]


def test_max_phrases_is_respected():
    text = "Alice reviewed the Postgres migration, the Redis upgrade, the Kafka rollout and the CI pipeline."

    assert len(extract_keyphrases(text, max_phrases=3)) <= 3
    assert extract_keyphrases(text, max_phrases=0) == []


def test_the_same_text_gives_the_same_phrases():
    text = "Bob moved the billing service to Kubernetes. Billing latency dropped after the move."

    assert extract_keyphrases(text) == extract_keyphrases(text)


def test_locate_phrase_prefers_the_exact_casing_and_rejects_absent_phrases():
    text = "the postgres cluster and the Postgres   Cluster"

    assert locate_phrase("Postgres Cluster", text) == "Postgres   Cluster"
    assert locate_phrase("POSTGRES CLUSTER", text) == "postgres cluster"
    assert locate_phrase("Redis", text) is None
    assert locate_phrase("gres", text) is None  # a phrase starts and ends on word boundaries
    assert locate_phrase("ca n't", "We can't go") == "can't"


def test_topics_merge_phrases_across_texts():
    texts = ["Postgres cluster is down", "the postgres cluster needs pgvector", "Redis is fine"]

    topics = extract_topics(texts, max_topics=5)

    assert all(isinstance(topic, Topic) for topic in topics)
    assert topics[0].phrase == "Postgres cluster"
    assert topics[0].text_indexes == (0, 1)
    for topic in topics:
        assert any(topic.phrase in texts[index] for index in topic.text_indexes)


def test_extraction_makes_no_network_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("keyword extraction tried to open a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)

    assert extract_keyphrases("Stopword lists ship with the yake package itself.", language="fr")


def test_a_thousand_short_texts_take_a_few_milliseconds_each():
    texts = [
        f"Note {i}: Alice asked Bob to move the billing service {i % 7} to Kubernetes before Friday; "
        f"the Postgres cluster in Zürich needs {i % 5} more replicas."
        for i in range(1000)
    ]

    started = time.perf_counter()
    for text in texts:
        extract_keyphrases(text)
    per_text_ms = (time.perf_counter() - started) * 1000 / len(texts)

    print(f"extract_keyphrases: {per_text_ms:.2f} ms per short text")
    assert per_text_ms < 20
