"""Split notes and chat messages into sentences that are verbatim slices of the text."""

import re
from dataclasses import dataclass

# Words that end in a period without ending the sentence ("Acme Inc. in Zürich").
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st inc ltd corp co llc gmbh ag vs etc e.g i.e eg ie no nr fig approx "
    "dept est jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun".split()
)
_BULLET = re.compile(r"^\s*(?:[-*•‣◦>]+|\d{1,3}[.)]|\[[ xX]?\])\s+")
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


@dataclass(frozen=True)
class Sentence:
    """A sentence, the index of the text it came from and its order within that text."""

    text: str
    text_index: int
    position: int


def split_sentences(text: str) -> list[str]:
    """Return the sentences of text in order; each line of a chat message or list stands alone."""
    sentences = []
    for line in text.splitlines():
        line = _BULLET.sub("", line, count=1).strip()
        start = 0
        for boundary in _BOUNDARY.finditer(line):
            end = boundary.end()
            rest = line[end:].lstrip()
            if not rest or _continues_sentence(line[start:boundary.start()], rest):
                continue
            sentences.append(line[start:end].strip())
            start = end
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return [sentence for sentence in sentences if any(char.isalnum() for char in sentence)]


def split_texts(texts) -> list[Sentence]:
    """Return the sentences of every text, tagged with where they came from."""
    return [
        Sentence(sentence, text_index, position)
        for text_index, text in enumerate(texts)
        for position, sentence in enumerate(split_sentences(text or ""))
    ]


def _continues_sentence(before: str, rest: str) -> bool:
    """Tell whether a period is an abbreviation, an initial or followed by a lowercase word."""
    if rest[0].islower():
        return True
    match = _WORD_BEFORE.search(before)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    # "J. Smith" and "U.S. Army": one-letter words before a period are initials.
    return word in ABBREVIATIONS or len(word.replace(".", "")) == 1 and word.isalpha()
