import socket

import pytest

from memory.providers.keywords import (
    Keyphrase,
    Topic,
    distinct_phrases,
    extract_keyphrases,
    extract_topics,
    is_name,
    locate_phrase,
)


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


# Topic quality: noun phrases, not clause fragments

def phrases_of(text, max_phrases=8):
    phrases = extract_keyphrases(text, max_phrases=max_phrases)
    assert_verbatim(phrases, text)
    return [keyphrase.phrase for keyphrase in phrases]


@pytest.mark.parametrize(
    "text, kept, dropped",
    [
        (
            "Alice Chen leads the Platform team at Acme Corp.",
            ["Alice Chen", "Platform team", "Acme Corp"],
            ["Alice Chen leads", "Chen leads", "leads the Platform"],
        ),
        (
            "Dave Kim manages the Berlin office.",
            ["Dave Kim", "Berlin office"],
            ["Dave Kim manages", "Kim manages", "manages the Berlin"],
        ),
        (
            "The New York office will move to the new payment gateway after Chen reviews the contract.",
            ["New York office", "payment gateway"],
            ["York office", "office will move", "gateway after Chen", "Chen reviews", "reviews the contract"],
        ),
        (
            "Alice asked Bob to finish the Postgres migration before the payment gateway launch next week.",
            ["Postgres migration", "payment gateway launch"],
            ["Alice asked Bob", "asked Bob", "Bob to finish", "finish the Postgres", "week"],
        ),
        (
            "Redis latency spiked when the cache eviction policy was set to allkeys-lru.",
            ["Redis latency", "cache eviction policy"],
            ["Redis latency spiked", "latency spiked", "set to allkeys-lru", "set"],
        ),
        (
            "Users complained that the mobile app logs them out every day.",
            ["mobile app"],
            ["mobile app logs", "Users complained", "app logs", "day"],
        ),
        (
            "The deploy pipeline fails when the container image is larger than two gigabytes.",
            ["deploy pipeline", "container image"],
            ["deploy pipeline fails", "pipeline fails", "image is larger"],
        ),
        (
            "Revenue grew twelve percent compared with the same quarter last year.",
            [],
            ["Revenue grew", "Revenue grew twelve", "grew twelve percent", "twelve percent compared",
             "quarter last year"],
        ),
        (
            "The quarterly budget review moved cloud spending into its own line item.",
            ["quarterly budget review", "line item", "cloud spending"],
            ["budget review moved", "review moved cloud", "moved cloud spending"],
        ),
        (
            "We should move the backups to object storage before the end of the month.",
            ["object storage"],
            ["move the backups", "backups to object", "move", "month"],
        ),
        (
            "The payment gateway timed out twice during checkout on Friday.",
            ["payment gateway"],
            ["Friday"],
        ),
    ],
)
def test_topics_are_noun_phrases_not_clause_fragments(text, kept, dropped):
    found = phrases_of(text)

    for phrase in kept:
        assert phrase in found
    for phrase in dropped:
        assert phrase not in found


def test_no_demo_topic_is_a_name_or_noun_followed_by_its_verb():
    from memory.demo import DEMO_MEMORIES

    verbs = {"leads", "works", "manages", "founded", "acquired", "uses", "failed", "asked", "complained",
             "logs", "moved", "grew", "compared", "fails", "spiked", "want", "follow", "settle"}
    for text in DEMO_MEMORIES:
        for phrase in phrases_of(text, max_phrases=6):
            # A verb may open a phrase as an adjective ("failed nightly backup"), never follow a word.
            assert not verbs & {word.casefold() for word in phrase.split()[1:]}, (phrase, text)
            assert phrase.split()[0] not in verbs or len(phrase.split()) > 1, (phrase, text)


def test_a_participle_before_a_noun_is_an_adjective_but_after_one_a_verb():
    assert "failed nightly backup" in phrases_of("Another failed nightly backup of the billing database.")
    assert "lost packets" in phrases_of("We counted the lost packets on the router.")
    found = phrases_of("The billing database failed because no space was left on the disk.")
    assert not any(phrase.endswith(("failed", "left")) for phrase in found)


def test_a_function_word_inside_a_phrase_must_join_a_name():
    assert "Bank of America" in phrases_of("Carol works for the Bank of America in Chicago.")
    found = phrases_of("Chen leads the migration work and Bob is fixing the flaky checkout tests.")
    assert "flaky checkout tests" in found and "migration work" in found
    assert not any(word in phrase.split() for phrase in found for word in ("and", "is", "the"))
    found = phrases_of("Acme Corp uses PostgreSQL for billing and Redis for the job queue.")
    assert "Corp uses PostgreSQL" not in found and "billing and Redis" not in found


def test_a_name_cut_at_a_stopword_grows_back_but_not_over_the_start_of_a_sentence():
    assert "New York City" in phrases_of("Carol Diaz works for Globex Inc in New York City.")
    assert "Carol Diaz" in phrases_of("Carol Diaz works for Globex Inc in New York City.")
    found = phrases_of("Yesterday Chen fixed the flaky checkout tests. In May Acme shipped the search page.")
    assert not any(phrase.startswith(("Yesterday", "In", "May")) for phrase in found)


def test_a_phrase_inside_a_kept_one_is_dropped_and_overlapping_windows_are_joined():
    found = phrases_of("Acme Corp is located in Berlin.")
    assert "Acme Corp" in found and "Acme" not in found and "Corp" not in found

    found = phrases_of("We interviewed three candidates for the senior backend engineer role.")
    assert "senior backend engineer role" in found
    assert [phrase for phrase in found if "backend" in phrase] == ["senior backend engineer role"]
    assert not any("interviewed" in phrase or "three" in phrase for phrase in found)


def test_distinct_phrases_skip_phrases_held_by_or_holding_a_kept_one():
    phrases = ["Acme Corp", "corp", "ACME CORP", "Postgres", "Postgresql", "Postgres cluster",
               "senior backend engineer", "backend engineer role", "Redis"]

    assert distinct_phrases(phrases, 10) == ["Acme Corp", "Postgres", "Postgresql", "senior backend engineer", "Redis"]
    assert distinct_phrases(phrases, 2) == ["Acme Corp", "Postgres"]


@pytest.mark.parametrize(
    "phrase, expected",
    [("Acme Corp", True), ("Bank of America", True), ("New York City", True), ("Platform team", False),
     ("PDF files", False), ("of America", False), ("", False)],
)
def test_is_name(phrase, expected):
    assert is_name(phrase) is expected
