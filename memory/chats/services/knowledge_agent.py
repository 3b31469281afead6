"""Atoms' kind and title from the knowledge agent: the local rules, or an LLM agent row.

With an agent row of kind `llm`, the candidate messages of a batch (those that become atoms) go to
its OpenAI-compatible endpoint in one call, asking for strict JSON:

    {"atoms": [{"index": 0, "kind": "decision", "title": "Backups move to object storage"}]}

Each item is checked (an index of a candidate, one of the atom kinds, a non-empty title); a message
whose item is missing or malformed keeps the local kind and title, and is counted. A call that
fails as a whole (timeout, HTTP error, junk) leaves the whole batch to the local rules and is
counted too; extraction never fails because of the agent.
"""

from memory.providers.generation_interface import ProviderError

from ..models import Atom
from .proposers import MAX_MESSAGE_CHARS, generator_for

KINDS = tuple(Atom.Kind.values)
MAX_TITLE_CHARS = 200
SYSTEM_PROMPT = (
    "You turn a team's chat messages into units of knowledge. For each numbered message give its kind: "
    "fact, decision (the team settled something), question, task (someone must do something), problem "
    "(something is broken or failing) or insight, and a title of at most 10 words that states it. Use only "
    "what the message says.\n"
    'Answer with one JSON object and nothing else: {"atoms": [{"index": the message number, '
    '"kind": one of "fact", "decision", "question", "task", "problem", "insight", "title": string}]}.'
)


def describe_with_llm(agent, texts, local):
    """[(kind, title)] per text from the agent, falling back to local(text); return (descriptions, problems)."""
    fallback = [local(text) for text in texts]
    if not texts:
        return fallback, []
    prompt = "Messages:\n" + "\n".join(
        f"[{index}] {' '.join(text.split())[:MAX_MESSAGE_CHARS]}" for index, text in enumerate(texts))
    try:
        reply = generator_for(agent).complete_json(prompt, system=SYSTEM_PROMPT)
    except ProviderError as exc:
        return fallback, [f"the agent failed: {exc}"[:300]]
    items = reply.get("atoms")
    if not isinstance(items, list):
        return fallback, [f"the agent's answer has no list 'atoms': {str(reply)[:200]}"]
    described, problems = list(fallback), []
    answered = set()
    for position, item in enumerate(items):
        index = item.get("index") if isinstance(item, dict) else None
        kind = item.get("kind") if isinstance(item, dict) else None
        title = item.get("title") if isinstance(item, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(texts) or index in answered:
            problems.append(f"item {position}: index {str(index)[:20]!r} is not a message number or repeats")
        elif kind not in KINDS:
            problems.append(f"item {position}: kind {str(kind)[:40]!r} is not one of {', '.join(KINDS)}")
        elif not isinstance(title, str) or not title.strip():
            problems.append(f"item {position}: no title")
        else:
            answered.add(index)
            described[index] = (kind, " ".join(title.split())[:MAX_TITLE_CHARS])
    missing = len(texts) - len(answered)
    if missing:
        problems.append(f"{missing} message(s) without a valid item kept the local kind and title")
    return described, problems
