"""Who turns a batch of messages into proposals: the local classifier or an LLM agent.

An agent row (AgentConfig, edited in the admin) of kind `llm` asks an OpenAI-compatible chat
completions endpoint (OpenAI, Ollama, llama.cpp, vLLM) for one strict JSON object per batch:

    {"proposals": [{"index": 0, "kind": "task", "text": "...", "confidence": 0.8}]}

Every item is checked before it reaches the database: an index of a message in the batch, one of
the four kinds, a non-empty text and a confidence from 0 to 1. A reply that is not such an object
(HTTP error, timeout, junk, wrong shape) raises ProviderError and the run logs the batch as failed;
items that are malformed are dropped and counted as problems, the valid ones are kept.
"""

from dataclasses import dataclass

import numpy as np

from memory.conf import memory_settings
from memory.providers.generation_interface import ProviderError
from memory.providers.openai_chat import OpenAIChatGenerator

from ..models import Proposal

KINDS = tuple(Proposal.Kind.values)
MAX_MESSAGE_CHARS = 1_000
MAX_CONTEXT_CHARS = 300
MAX_TEXT_CHARS = 2_000
MAX_PROBLEMS_LOGGED = 5
SYSTEM_PROMPT = (
    "You read a team's chat messages and find what the team should track. For each numbered message that "
    "states a task (someone must do something), a decision (the team settled something), an open question "
    "or a problem (something is broken or failing), make one proposal; skip greetings, thanks and chatter. "
    "Use only what the messages say.\n"
    'Answer with one JSON object and nothing else: {"proposals": [{"index": the message number, '
    '"kind": one of "task", "decision", "question", "problem", "text": the proposal in one short sentence, '
    '"confidence": a number from 0 to 1}]}. Answer {"proposals": []} when there is nothing to track.'
)


@dataclass(frozen=True)
class Proposed:
    """One proposal for the message at `index` of the batch."""

    index: int
    kind: str
    text: str
    confidence: float


class LocalProposer:
    """The calibrated classifier: the message's most likely kind, its text as the proposal."""

    needs_vectors = True

    def __init__(self, classifier):
        self.classifier = classifier

    def propose(self, texts, vectors, context=()):
        proposed = [Proposed(index, kind, texts[index][:MAX_TEXT_CHARS], confidence)
                    for index, (kind, confidence) in enumerate(self.classifier.classify(texts, vectors))
                    if kind in KINDS]
        return proposed, []


class LLMProposer:
    """An OpenAI-compatible chat model, asked for strict JSON and checked item by item."""

    needs_vectors = False

    def __init__(self, agent):
        self.generator = generator_for(agent)

    def propose(self, texts, vectors=None, context=()):
        """Return (proposals, problems); raise ProviderError when the reply is unusable as a whole."""
        reply = self.generator.complete_json(prompt(texts, context), system=SYSTEM_PROMPT)
        return parse_reply(reply, len(texts))


def generator_for(agent):
    """The agent row's OpenAI-compatible endpoint (empty url or model: the MEMORY_LLM_* settings)."""
    return OpenAIChatGenerator(agent.url or memory_settings.LLM_URL, agent.model or memory_settings.LLM_MODEL,
                               api_key=memory_settings.LLM_API_KEY, timeout=agent.timeout_seconds)


def prompt(texts, context=()):
    lines = ["Messages:"]
    lines += [f"[{index}] {' '.join(text.split())[:MAX_MESSAGE_CHARS]}" for index, text in enumerate(texts)]
    if context:
        lines += ["", "What the team already knows (for context only; make no proposals from it):"]
        lines += [f"- {' '.join(item.split())[:MAX_CONTEXT_CHARS]}" for item in context]
    return "\n".join(lines)


def parse_reply(reply, count):
    """Check the reply's proposals; return (valid proposals, one problem line per malformed item)."""
    items = reply.get("proposals") if isinstance(reply, dict) else None
    if not isinstance(items, list):
        raise ProviderError(f"The model's answer has no list 'proposals': {str(reply)[:300]}")
    proposed, problems, seen = [], [], set()
    for position, item in enumerate(items):
        try:
            candidate = _proposal(item, count)
        except ValueError as exc:
            problems.append(f"item {position}: {exc}")
            continue
        if candidate.index in seen:
            problems.append(f"item {position}: a second proposal for message {candidate.index}")
            continue
        seen.add(candidate.index)
        proposed.append(candidate)
    return proposed, problems


def _proposal(item, count):
    if not isinstance(item, dict):
        raise ValueError(f"not an object: {str(item)[:80]!r}")
    index, kind, text, confidence = (item.get(k) for k in ("index", "kind", "text", "confidence"))
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ValueError(f"index {index!r} is not a message number from 0 to {count - 1}")
    if kind not in KINDS:
        raise ValueError(f"kind {str(kind)[:40]!r} is not one of {', '.join(KINDS)}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no text")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1 \
            or not np.isfinite(confidence):
        raise ValueError(f"confidence {str(confidence)[:40]!r} is not a number from 0 to 1")
    return Proposed(index, kind, " ".join(text.split())[:MAX_TEXT_CHARS], float(confidence))
