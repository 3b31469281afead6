"""Split a document's pages into token windows that respect headings and paragraphs.

A token is one of the embedding model's word pieces, counted by its own tokenizer
(memory.providers.tokens: the packaged MiniLM tokenizer.json through `tokenizers`). A window holds
at most MAX_TOKENS of them, so a chunk plus the model's [CLS] and [SEP] fits its 256-piece input
and nothing is cut off when it is embedded. Counts are in pieces, so a rare or long word costs
what the model pays for it ("unbelievably" is 3 pieces), not 1.

Rules: a heading always starts a new chunk and is repeated as its `heading`; paragraphs are
packed whole while they fit; a window that fills up hands its last OVERLAP_TOKENS of text to the
next one (context across the cut); a paragraph longer than a window is cut into overlapping
windows on word boundaries.
"""

from dataclasses import dataclass, field

from memory.providers.onnx_minilm import MAX_SEQ_LENGTH
from memory.providers.tokens import SPECIAL_TOKENS, count_each, count_tokens, embedding_tokenizer

MAX_TOKENS = MAX_SEQ_LENGTH - SPECIAL_TOKENS
OVERLAP_TOKENS = 32

__all__ = ["MAX_TOKENS", "OVERLAP_TOKENS", "ChunkDraft", "chunk_pages", "count_tokens"]


@dataclass
class Piece:
    text: str
    page: int
    confidence: float
    tokens: int
    overlap: bool = False


@dataclass
class ChunkDraft:
    ordinal: int
    text: str
    page_start: int
    page_end: int
    token_count: int
    confidence: float
    heading: str = ""


@dataclass
class _Window:
    heading: str = ""
    pieces: list = field(default_factory=list)

    @property
    def tokens(self):
        return sum(p.tokens for p in self.pieces)

    @property
    def has_content(self):
        return any(not p.overlap for p in self.pieces)


def _cut_word(word, limit):
    """A "word" longer than a window (a hash, a base64 blob) cut at piece boundaries into parts that fit."""
    parts, rest = [], word
    while rest:
        offsets = embedding_tokenizer().encode(rest, add_special_tokens=False).offsets
        if len(offsets) <= limit:
            parts.append(rest)
            break
        # Half a window per part: a part re-tokenised on its own may start with more pieces.
        end = offsets[max(1, limit // 2) - 1][1]
        parts.append(rest[:end])
        rest = rest[end:]
    return parts


def _split_words(text, limit):
    """Word runs of at most `limit` tokens each."""
    runs, current, count = [], [], 0
    words, counts = [], []
    for word, n in zip(text.split(), count_each(text.split())):
        parts = _cut_word(word, limit) if n > limit else [word]
        words += parts
        counts += count_each(parts) if len(parts) > 1 else [n]
    for word, n in zip(words, counts):
        n = n or 1
        if current and count + n > limit:
            runs.append(" ".join(current))
            current, count = [], 0
        current.append(word)
        count += n
    if current:
        runs.append(" ".join(current))
    return runs


def _tail(text, limit):
    """The last words of `text` that fit in `limit` tokens."""
    words, count = [], 0
    candidates = text.split()[-limit:]  # a word is at least one token: no more can fit
    for word, n in zip(reversed(candidates), reversed(count_each(candidates))):
        n = n or 1
        if count + n > limit:
            break
        words.append(word)
        count += n
    return " ".join(reversed(words))


def chunk_pages(pages, max_tokens=MAX_TOKENS, overlap=OVERLAP_TOKENS):
    """ChunkDrafts from pages given as (number, [{"text", "confidence", "heading"}, ...])."""
    drafts, window = [], _Window()

    def flush(carry):
        nonlocal window
        if window.has_content:
            pieces = window.pieces
            tokens = sum(p.tokens for p in pieces)
            confidence = sum(p.confidence * p.tokens for p in pieces) / tokens if tokens else 1.0
            drafts.append(ChunkDraft(
                ordinal=len(drafts), text="\n\n".join(p.text for p in pieces),
                page_start=min(p.page for p in pieces), page_end=max(p.page for p in pieces),
                token_count=tokens, confidence=round(min(max(confidence, 0.0), 1.0), 4), heading=window.heading,
            ))
        heading = window.heading
        window = _Window(heading=heading)
        if carry and drafts:
            last = window_last_piece
            tail = _tail(last.text, overlap)
            if tail:
                window.pieces.append(Piece(tail, last.page, last.confidence, count_tokens(tail), overlap=True))

    window_last_piece = None
    for number, blocks in pages:
        for block in blocks:
            text = block["text"].strip()
            if not text:
                continue
            if block.get("heading"):
                flush(carry=False)
                window.heading = text.lstrip("#").strip()[:300]
            # Budget for the heading line too, since it is part of the chunk's text.
            for run in _split_words(text, max_tokens - overlap) if count_tokens(text) > max_tokens - overlap else [text]:
                piece = Piece(run, number, float(block.get("confidence", 1.0)), count_tokens(run))
                if window.tokens + piece.tokens > max_tokens:
                    flush(carry=True)
                    if window.tokens + piece.tokens > max_tokens:  # the carried overlap does not fit with it
                        window.pieces = []
                window.pieces.append(piece)
                window_last_piece = piece
    flush(carry=False)
    return drafts
