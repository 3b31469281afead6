"""A document's language from its most common function words (enough to tag, no model)."""

import re
from collections import Counter

STOPWORDS = {
    "en": {"the", "and", "of", "to", "is", "in", "that", "it", "for", "with", "as", "was", "on", "are", "this"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "ein", "eine", "zu", "mit", "den", "von", "auf", "sich"},
    "fr": {"le", "la", "les", "et", "est", "des", "une", "un", "du", "que", "pour", "dans", "pas", "sur"},
    "es": {"el", "la", "los", "las", "y", "es", "de", "que", "en", "una", "por", "con", "para", "del"},
    "nl": {"de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "met", "voor", "zijn"},
}


def detect_language(text, sample=20000):
    """An ISO 639-1 code, or "" when the text is too short or matches no language clearly."""
    words = Counter(re.findall(r"[^\W\d_]+", text[:sample].lower()))
    if sum(words.values()) < 5:
        return ""
    scores = {lang: sum(words[w] for w in stop) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= 2 else ""
