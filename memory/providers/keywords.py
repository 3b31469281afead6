"""Keyphrases and topics with YAKE, returned as exact substrings of the text they came from."""

import re
from dataclasses import dataclass

import yake

# YAKE's cost grows faster than linearly with length; a memory's keyphrases are found in its
# first pages, and every phrase is still a substring of the whole text.
MAX_TEXT_CHARS = 20_000
MAX_NGRAM = 3

# Horizontal whitespace only: a phrase that spans a line break ("Acme\nCorp") is usually two
# chat lines or list items glued together by YAKE, which reads newlines as spaces.
_GAP = r"[^\S\n]+"
_TIGHT_GAP = r"[^\S\n]*"


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
    # A fresh extractor per call costs ~0.1 ms and keeps YAKE's internal caches out of threads.
    extractor = yake.KeywordExtractor(
        lan=language[:2].lower() or "en",
        n=MAX_NGRAM,
        # Ask for spares: some candidates are dropped below when they cannot be found verbatim.
        top=max_phrases * 2,
        dedup_lim=0.9,
    )
    found = []
    seen = set()
    for candidate, yake_score in extractor.extract_keywords(text):
        phrase = locate_phrase(candidate, text)
        if phrase is None or phrase.casefold() in seen or not any(c.isalpha() for c in phrase):
            continue
        seen.add(phrase.casefold())
        # YAKE scores are unbounded and lower is better; fold them into (0, 1], higher is better.
        found.append(Keyphrase(phrase, round(1.0 / (1.0 + float(yake_score)), 6)))
        if len(found) == max_phrases:
            break
    return found


def locate_phrase(candidate: str, text: str) -> str | None:
    """Return candidate as it is written in text (casing and spacing), or None if it is not there."""
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
                return match.group(0)
    return None


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
