"""Keyphrases and topics with YAKE, returned as exact substrings of the text they came from.

YAKE ranks n-grams by statistics alone, so its best candidates include clause fragments ("Chen
leads", "billing database failed", "work and Bob"). A topic should read as a noun phrase, so the
candidates go through cheap rules: no function word inside unless it joins a name ("Bank of
America"), and, for English, closed lists of verb forms, number and time words and predicative
adjectives, plus what the words next to a candidate say about it ("logs them out": "logs" is a
verb). A name cut short at a stopword grows back ("York office" -> "New York office"), and a
phrase inside one already kept is dropped ("Corp" after "Acme Corp").
"""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import yake

from memory.providers import english_phrases

# YAKE's cost grows faster than linearly with length; a memory's keyphrases are found in its
# first pages, and every phrase is still a substring of the whole text.
MAX_TEXT_CHARS = 20_000
MAX_NGRAM = 3
# A name may grow a YAKE phrase by a word ("New York office"); anything longer is a clause or a list.
MAX_WORDS = 4
MAX_PHRASE_CHARS = 60
# Candidates asked of YAKE per phrase wanted: on chat-like text about half of them are fragments.
CANDIDATES_PER_PHRASE = 4

# Horizontal whitespace only: a phrase that spans a line break ("Acme\nCorp") is usually two
# chat lines or list items glued together by YAKE, which reads newlines as spaces.
_GAP = r"[^\S\n]+"
_TIGHT_GAP = r"[^\S\n]*"
_WORD_BEFORE = re.compile(r"(\w[\w'’&-]*)[^\S\n]+$")
_WORD_AFTER = re.compile(r"^[^\S\n]+(\w[\w'’&-]*)")

@dataclass(frozen=True)
class Keyphrase:
    """A phrase as written in the text and its relevance in (0, 1], higher is more relevant."""

    phrase: str
    score: float


@dataclass(frozen=True)
class Topic:
    """A phrase found across texts: summed relevance and the indexes of the texts that hold it."""

    phrase: str
    score: float
    text_indexes: tuple[int, ...]


def extract_keyphrases(text: str, max_phrases: int = 8, language: str = "en") -> list[Keyphrase]:
    """Return up to max_phrases keyphrases of text, most relevant first, each found verbatim in it."""
    if max_phrases < 1 or not text or not any(char.isalpha() for char in text):
        return []
    text = text[:MAX_TEXT_CHARS]
    language = language[:2].lower() or "en"
    yake_stopwords, stopwords = _stopwords(language)
    # A fresh extractor per call keeps YAKE's internal caches out of threads; given the stopwords
    # it costs ~0.03 ms (reading YAKE's stopword file, ~0.3 ms, was a fifth of tagging a post).
    extractor = yake.KeywordExtractor(
        lan=language,
        n=MAX_NGRAM,
        # Ask for spares: candidates that are not found verbatim or do not read as topics are dropped.
        top=max_phrases * CANDIDATES_PER_PHRASE,
        dedup_lim=0.9,
        stopwords=yake_stopwords,
    )
    english = language == "en"
    found: list[Keyphrase] = []
    for candidate, yake_score in extractor.extract_keywords(text):
        match = _find_phrase(candidate, text)
        if match is None:
            continue
        start, end = match.span()
        # German capitalises every noun, so there a capital letter does not mark a name.
        if language != "de":
            start, end = _grow_name(text, start, end)
        phrase = text[start:end]
        if not _reads_as_topic(phrase, text, start, end, stopwords, english):
            continue
        twin = next((i for i, kept in enumerate(found) if _near_duplicates(phrase, kept.phrase)), None)
        if twin is not None:
            # Two windows on one compound become the compound, if it is in the text and reads as a topic.
            merged = _merge_overlap(found[twin].phrase, phrase, text, stopwords, english)
            if merged:
                found[twin] = Keyphrase(merged, found[twin].score)
            continue
        # YAKE scores are unbounded and lower is better; fold them into (0, 1], higher is better.
        found.append(Keyphrase(phrase, round(1.0 / (1.0 + float(yake_score)), 6)))
        if len(found) == max_phrases:
            break
    return found


@functools.cache
def _stopwords(language):
    """YAKE's stopword set for a language (read from its file once per process), and its casefolded form."""
    words = frozenset(yake.KeywordExtractor(lan=language).stopword_set)
    return words, frozenset(word.casefold() for word in words)


def distinct_phrases(phrases: Iterable[str], limit: int) -> list[str]:
    """Keep up to limit phrases in order, skipping one that holds or is held by a phrase already kept."""
    kept: list[str] = []
    for phrase in phrases:
        if not any(_near_duplicates(phrase, other) for other in kept):
            kept.append(phrase)
            if len(kept) == limit:
                break
    return kept


def is_name(phrase: str) -> bool:
    """Tell whether every word of phrase is capitalised, bar connectors: "Acme Corp", "Bank of America"."""
    words = phrase.split()
    if not words or not (words[0][:1].isupper() and words[-1][:1].isupper()):
        return False
    return all(word[:1].isupper() or word in english_phrases.NAME_CONNECTORS for word in words)


def is_topic_head(word: str) -> bool:
    """Tell whether phrases ending in word may gather under it ("migration" yes; "end", "percent", "week" no)."""
    folded = word.casefold()
    return (folded not in english_phrases.GENERIC_NOUNS and folded not in english_phrases.QUANTITY_WORDS
            and folded.removesuffix("s") not in english_phrases.TIME_WORDS
            and folded not in english_phrases.NUMBER_WORDS and any(char.isalpha() for char in word))


def phrase_key(phrase: str) -> str:
    """What near-duplicate topic names share: casefolded words, a plural reduced to its singular.

    "Deployments", "deployment" and "deployment " get one key; "Postgres" and "postgres" too.
    """
    words = []
    for word in phrase.casefold().split():
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def locate_phrase(candidate: str, text: str) -> str | None:
    """Return candidate as it is written in text (casing and spacing), or None if it is not there."""
    match = _find_phrase(candidate, text)
    return match.group(0) if match else None


def _find_phrase(candidate: str, text: str) -> re.Match | None:
    """Find candidate's first occurrence in text, on word boundaries, tolerating YAKE's spacing and casing."""
    tokens = candidate.split()
    if not tokens:
        return None
    escaped = [re.escape(token) for token in tokens]
    # YAKE joins its tokens with one space and may split "can't" into "ca n't": try the spaced
    # form first, then tokens that touch; exact casing before YAKE's normalised casing.
    for gap in (_GAP, _TIGHT_GAP):
        pattern = r"(?<!\w)" + gap.join(escaped) + r"(?!\w)"
        for flags in (0, re.IGNORECASE):
            match = re.search(pattern, text, flags)
            if match:
                return match
    return None


def _grow_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a phrase that starts or ends a name over the rest of the name ("York office" -> "New York office").

    YAKE never lets a candidate start or end with a stopword, so "New York" loses its "New". A
    capitalised word in mid-sentence belongs to a name; one that starts a sentence may not, so the
    phrase grows over the first kind only, and never past MAX_WORDS.
    """
    words = len(text[start:end].split())
    while words < MAX_WORDS and text[start].isupper():
        before = _WORD_BEFORE.search(text, max(0, start - 100), start)
        if not before or not _is_mid_sentence_name(before.group(1), text, before.start(1)):
            break
        start, words = before.start(1), words + 1
    while words < MAX_WORDS and text[end - 1 : end].isalnum():
        last = text[start:end].split()[-1]
        after = _WORD_AFTER.match(text[end : end + 100])
        if not last[:1].isupper() or not after or not _is_mid_sentence_name(after.group(1), text, end):
            break
        end, words = end + after.end(1), words + 1
    return start, end


def _is_mid_sentence_name(word: str, text: str, position: int) -> bool:
    """Tell whether word is capitalised, not a date word or "I", and follows a word or a comma."""
    if not word[:1].isupper() or word.casefold() in english_phrases.NOT_NAME_PARTS:
        return False
    preceding = text[max(0, position - 100) : position].rstrip(" \t")
    return bool(preceding) and (preceding[-1].isalnum() or preceding[-1] == ",")


def _reads_as_topic(phrase: str, text: str, start: int, end: int, stopwords: frozenset, english: bool) -> bool:
    """Tell whether phrase, found at text[start:end], reads as a noun phrase rather than a clause fragment."""
    words = phrase.split()
    if not words or len(words) > MAX_WORDS or len(phrase) > MAX_PHRASE_CHARS:
        return False
    if not any(char.isalpha() for char in phrase):
        return False
    for index, word in enumerate(words):
        # "work and Bob", "Corp uses PostgreSQL": a function word inside joins two things or is a
        # verb; only a connector between capitalised words is part of a name ("Bank of America").
        if word.casefold() in stopwords and word.islower() and not (
            word in english_phrases.NAME_CONNECTORS
            and 0 < index < len(words) - 1
            and words[index - 1][:1].isupper()
            and words[index + 1][:1].isupper()
        ):
            return False
    if not english:
        return True
    before = _WORD_BEFORE.search(text, max(0, start - 100), start)
    after = _WORD_AFTER.match(text[end : end + 100])
    return english_phrases.reads_as_noun_phrase(
        words, before.group(1) if before else "", after.group(1) if after else "", stopwords)


def _merge_overlap(kept: str, new: str, text: str, stopwords: frozenset, english: bool) -> str | None:
    """Join two phrases that overlap by two words or more into the phrase of the text they come from."""
    a, b = kept.split(), new.split()
    for k in range(min(len(a), len(b)) - 1, 1, -1):
        for left, right in ((a, b), (b, a)):
            if [w.casefold() for w in left[-k:]] == [w.casefold() for w in right[:k]]:
                match = _find_phrase(" ".join(left + right[k:]), text)
                if not match or not _reads_as_topic(match.group(0), text, *match.span(), stopwords, english):
                    continue
                # Still a window if the compound goes on ("load balancer health" before "check").
                after = _WORD_AFTER.match(text[match.end() : match.end() + 100])
                if after and after.group(1).islower() and after.group(1) not in stopwords:
                    continue
                return match.group(0)
    return None


def _near_duplicates(phrase: str, other: str) -> bool:
    """Tell whether one phrase holds the other or they overlap by two words, ignoring case.

    "Corp" is inside "Acme Corp"; "senior backend engineer" and "backend engineer role" are two
    windows on one compound.
    """
    # Padded with spaces so "Postgres" is inside "Postgres cluster" but not inside "Postgresql".
    one, two = (f" {' '.join(p.casefold().split())} " for p in (phrase, other))
    if one in two or two in one:
        return True
    a, b = one.split(), two.split()
    return any(a[-k:] == b[:k] or b[-k:] == a[:k] for k in range(2, min(len(a), len(b))))


def extract_topics(
    texts: list[str], max_topics: int = 10, language: str = "en", phrases_per_text: int = 8
) -> list[Topic]:
    """Return the phrases that matter most across texts, most relevant first."""
    totals: dict[str, float] = {}
    indexes: dict[str, list[int]] = {}
    spellings: dict[str, dict[str, int]] = {}
    for index, text in enumerate(texts):
        for keyphrase in extract_keyphrases(text, phrases_per_text, language):
            key = keyphrase.phrase.casefold()
            totals[key] = totals.get(key, 0.0) + keyphrase.score
            indexes.setdefault(key, []).append(index)
            forms = spellings.setdefault(key, {})
            forms[keyphrase.phrase] = forms.get(keyphrase.phrase, 0) + 1
    # Dicts keep insertion order, so ties fall back to the first text that mentioned a phrase.
    ranked = sorted(totals, key=lambda key: -totals[key])[:max_topics]
    return [
        Topic(
            # The most frequent spelling; max() keeps the first one seen among equals.
            phrase=max(spellings[key], key=spellings[key].get),
            score=round(totals[key], 6),
            text_indexes=tuple(indexes[key]),
        )
        for key in ranked
    ]
