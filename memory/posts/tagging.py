"""Tags of a post: candidates from a tagger, kept only when they are substrings of the text.

The check is case-insensitive over whitespace-normalised text, and each kept tag is returned as it is
written in the post. Idempotency has two layers: this process's TTL-LRU cache of (post, text hash)
it already tagged, and a Redis key per (post, revision, text hash) shared by every worker.
"""

import collections
import hashlib
import json
import threading
import time
from dataclasses import dataclass

from memory.conf import memory_settings
from memory.providers.keywords import extract_keyphrases

from .models import tag_key

LLM_SYSTEM_PROMPT = (
    "You tag channel posts. Answer with one JSON object and nothing else: {\"tags\": [strings]}. "
    "Every tag must be copied verbatim from the post: a word or a short phrase of at most four words that "
    "appears in the post exactly as written. Never translate, paraphrase, or invent a tag. At most {limit} tags."
)


@dataclass(frozen=True)
class Tagging:
    tags: list
    dropped: int
    tags_hash: str


def normalised(text):
    """text casefolded with every run of whitespace as one space: the form the substring check compares."""
    return " ".join(text.casefold().split())


def _folded_with_offsets(text):
    """text normalised (casefolded, whitespace runs as one space, stripped) and, per folded character,
    the index of the text's character it came from (casefolding may grow a character: "ß" -> "ss")."""
    chars, offsets = [], []
    pending_space = False
    for index, char in enumerate(text):
        if char.isspace():
            pending_space = bool(chars)
            continue
        if pending_space:
            chars.append(" ")
            offsets.append(index)
            pending_space = False
        for folded in char.casefold():
            chars.append(folded)
            offsets.append(index)
    return "".join(chars), offsets


def as_written(tag, text):
    """The tag as the text writes it (first occurrence that matches whole characters), or None if it is not in it."""
    key = normalised(tag)
    if not key:
        return None
    folded, offsets = _folded_with_offsets(text)
    position = folded.find(key)
    while position != -1:
        written = text[offsets[position]:offsets[position + len(key) - 1] + 1]
        # A match inside a character's casefolding ("s" of "ß") is not a substring as written.
        if normalised(written) == key:
            return written
        position = folded.find(key, position + 1)
    return None


def check_tags(candidates, text, limit):
    """Keep the candidates that are substrings of text (as written in it, each once); return (kept, dropped)."""
    kept, keys, dropped = [], set(), 0
    for candidate in candidates:
        if not isinstance(candidate, str):
            dropped += 1
            continue
        written = as_written(candidate, text)
        if written is None or not written.strip():
            dropped += 1
            continue
        key = tag_key(written)
        if key in keys:
            continue
        keys.add(key)
        kept.append(written)
        if len(kept) == limit:
            break
    return kept, dropped


def tags_hash(tags):
    return hashlib.sha256(json.dumps(sorted(tag_key(tag) for tag in tags)).encode()).hexdigest()


def local_candidates(text, limit):
    return [keyphrase.phrase for keyphrase in extract_keyphrases(text, max_phrases=limit)]


def llm_candidates(text, limit):
    from memory.providers.openai_chat import OpenAIChatGenerator  # noqa: PLC0415 - only when configured
    from memory.providers.text_generation import TextGenerationConfig  # noqa: PLC0415

    config = TextGenerationConfig.from_settings()
    generator = OpenAIChatGenerator(config.url, config.model, api_key=config.api_key, timeout=config.timeout)
    answer = generator.complete_json(f"Post:\n{text[:8000]}",
                                     system=LLM_SYSTEM_PROMPT.replace("{limit}", str(limit)))
    tags = answer.get("tags")
    return tags if isinstance(tags, list) else []


def tag_text(text, tagger=None, limit=None):
    """The checked tags of text from the configured tagger (local YAKE or the LLM)."""
    limit = limit or memory_settings.POSTS_MAX_TAGS
    tagger = (tagger or memory_settings.POSTS_TAGGER).strip().lower()
    candidates = llm_candidates(text, limit) if tagger == "llm" else local_candidates(text, limit)
    kept, dropped = check_tags(candidates, text, limit)
    return Tagging(tags=kept, dropped=dropped, tags_hash=tags_hash(kept))


class TTLCache:
    """A least-recently-used set of keys that forgets a key after ttl seconds; thread-safe."""

    def __init__(self, size, ttl, clock=time.monotonic):
        self.size, self.ttl, self.clock = size, ttl, clock
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        with self._lock:
            stored = self._entries.get(key)
            if stored is None:
                return False
            if self.clock() - stored > self.ttl:
                del self._entries[key]
                return False
            self._entries.move_to_end(key)
            return True

    def add(self, key):
        with self._lock:
            self._entries[key] = self.clock()
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_cache = None
_cache_lock = threading.Lock()


def worker_cache():
    """This process's cache, rebuilt when its configured size or TTL changes."""
    global _cache  # one per worker process, on purpose: it is the in-worker layer
    size, ttl = memory_settings.POSTS_TAG_CACHE_SIZE, memory_settings.POSTS_TAG_CACHE_TTL_SECONDS
    with _cache_lock:
        if _cache is None or (_cache.size, _cache.ttl) != (size, ttl):
            _cache = TTLCache(size, ttl)
        return _cache


def dedup_key(post_id, revision, digest):
    return f"posts:tagged:{post_id}:{revision}:{digest}"
