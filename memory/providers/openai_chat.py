"""A text generator over an OpenAI-compatible chat completions API (OpenAI, Ollama, llama.cpp)."""

import json
import re
from collections.abc import Sequence

from memory.providers.decision_rubric import RUBRIC
from memory.providers.http_json import HttpStatusError, Unreachable, post_json
from memory.providers.generation_interface import Answer, Assessment, ProviderError, Reflection, Summary, Triple

# Enough for a day of chat in one prompt while staying inside an 8k-token context window.
MAX_INPUT_CHARS = 24_000
MAX_ERROR_CHARS = 300
# A question is a chat message (and at most half the input budget); the rest goes to the passages.
MAX_QUESTION_CHARS = 2_000
SYSTEM_PROMPT = (
    "You help a team keep its memory: notes, chat messages, documents and decisions. "
    "Answer with one JSON object and nothing else. Use only facts stated in the input."
)
# Answers are grounded in the team's memories, not the model's own knowledge: a reply the
# passages do not support would read as something the team knows.
ANSWER_SYSTEM_PROMPT = (
    "You answer a team member's question from the team's memory. The user message holds the question "
    "and numbered passages from that memory. Answer only from the numbered passages, never from your own "
    "knowledge, in at most 3 sentences, and cite every passage you use by its number. If the passages do "
    "not answer the question, say so in one sentence and cite none.\n"
    'Answer with one JSON object and nothing else: {"answer": string, '
    '"source_indexes": [the numbers of the passages the answer uses]}.'
)


class OpenAIChatGenerator:
    """Ask a chat model for JSON answers and check them before they reach the domain."""

    def __init__(self, base_url: str, model: str, *, api_key: str = "", timeout: float = 60.0,
                 max_input_chars: int = MAX_INPUT_CHARS):
        base = base_url.rstrip("/")
        # Ollama's and OpenAI's docs give the base URL with /v1; accept it with or without.
        if base.endswith("/v1"):
            base = base[: -len("/v1")]
        self.endpoint = f"{base}/v1/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_input_chars = max_input_chars

    def summarize(self, texts: Sequence[str], max_sentences: int = 3) -> Summary:
        """Ask for a summary of at most max_sentences sentences, key points and the texts used."""
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1.")
        texts = list(texts)
        if not any(text and text.strip() for text in texts):
            return Summary("", [], [])
        answer = self.complete_json(
            f"Summarise the numbered texts below in at most {max_sentences} sentences.\n"
            'Return {"summary": string, "key_points": [up to 8 short strings], '
            '"source_indexes": [the numbers of the texts the summary draws on]}.\n\n'
            + self._numbered(texts)
        )
        indexes = _list_of(answer, "source_indexes", int)
        return Summary(
            summary=_text(answer, "summary"),
            key_points=_list_of(answer, "key_points", str),
            # A model may cite texts that were not there; keep only real indexes.
            source_indexes=sorted({index for index in indexes if 0 <= index < len(texts)}),
        )

    def answer(self, question: str, passages: Sequence[str]) -> Answer:
        """Ask the model to answer the question from the numbered passages only and cite them."""
        passages = list(passages)
        question = " ".join((question or "").split())[: min(MAX_QUESTION_CHARS, self.max_input_chars // 2)]
        if not question or not any(passage and passage.strip() for passage in passages):
            return Answer("", [])
        reply = self.complete_json(
            f"Question: {question}\n\nPassages:\n" + self._numbered(passages, self.max_input_chars - len(question)),
            system=ANSWER_SYSTEM_PROMPT,
        )
        indexes = _list_of(reply, "source_indexes", int)
        return Answer(
            text=_text(reply, "answer").strip(),
            source_indexes=sorted({index for index in indexes if 0 <= index < len(passages)}),
        )

    def extract_triples(self, text: str) -> list[Triple]:
        """Ask for the (subject, predicate, object) facts stated in text."""
        if not text or not text.strip():
            return []
        answer = self.complete_json(
            "Extract the facts stated in the text below as (subject, predicate, object) triples. "
            "Use short snake_case predicates such as is_a, works_at, founded, acquired, located_in, "
            "uses, ceo_of.\n"
            'Return {"triples": [{"subject": string, "predicate": string, "object": string, '
            '"confidence": number from 0 to 1}]}.\n\n'
            + text[: self.max_input_chars]
        )
        triples = []
        for item in _list_of(answer, "triples", dict):
            predicate = re.sub(r"\W+", "_", _text(item, "predicate").strip().lower()).strip("_")
            subject, obj = _text(item, "subject").strip(), _text(item, "object").strip()
            if not (subject and predicate and obj):
                raise ProviderError(f"The model returned an incomplete triple: {item!r}.")
            triples.append(Triple(subject, predicate, obj, _unit_number(item, "confidence")))
        return triples

    def assess_decision(
        self,
        title: str,
        context: str,
        options: Sequence[str],
        chosen: str,
        rationale: str,
        *,
        owner: str = "",
        decided_on: str = "",
    ) -> Assessment:
        """Ask the model to score the decision against the same rubric the local generator uses."""
        rubric = "\n".join(f"- {c.name} (weight {c.weight}): {c.earns_it}" for c in RUBRIC)
        record = json.dumps(
            {"title": title, "context": context, "options": list(options), "chosen": chosen,
             "rationale": rationale, "owner": owner, "decided_on": decided_on},
            ensure_ascii=False,
        )
        answer = self.complete_json(
            "Score how well this decision is recorded, from 0 to 1, with this rubric:\n"
            f"{rubric}\n"
            "List one finding for every point the record loses, saying what to add.\n"
            'Return {"score": number from 0 to 1, "findings": [strings]}.\n\n'
            f"Decision: {record[: self.max_input_chars]}"
        )
        return Assessment(_unit_number(answer, "score"), _list_of(answer, "findings", str))

    def reflect(self, texts: Sequence[str]) -> Reflection:
        """Ask for a summary, the insights and the follow-up actions in texts."""
        texts = list(texts)
        if not any(text and text.strip() for text in texts):
            return Reflection("", [], [])
        answer = self.complete_json(
            "Reflect on the numbered texts below: summarise them in at most 3 sentences, list up to 5 "
            "insights (what stands out, recurring themes, open problems) and up to 10 concrete actions "
            "they call for.\n"
            'Return {"summary": string, "insights": [strings], "actions": [strings]}.\n\n'
            + self._numbered(texts)
        )
        return Reflection(
            summary=_text(answer, "summary"),
            insights=_list_of(answer, "insights", str),
            actions=_list_of(answer, "actions", str),
        )

    def complete_json(self, prompt: str, system: str = SYSTEM_PROMPT) -> dict:
        """Send one chat completion at temperature 0 and return the answer parsed as a JSON object."""
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "stream": False,
        }
        try:
            raw = post_json(self.endpoint, body, api_key=self.api_key, timeout=self.timeout)
        except HttpStatusError as error:
            raise ProviderError(f"{self.endpoint} answered HTTP {error.status}: {_error_detail(error.body)}") from error
        except Unreachable as error:
            raise ProviderError(f"Could not reach {self.endpoint}: {error.reason}") from error
        return _parse_completion(raw)

    def _numbered(self, texts: list[str], budget: int | None = None) -> str:
        """Number the texts for the prompt, cutting them off at the input budget."""
        lines = []
        budget = self.max_input_chars if budget is None else budget
        for index, text in enumerate(texts):
            if budget <= 0:
                break
            line = f"[{index}] {' '.join((text or '').split())}"[:budget]
            lines.append(line)
            budget -= len(line) + 1
        return "\n".join(lines)


def _parse_completion(raw: bytes) -> dict:
    """Return the JSON object in a chat completion's first choice, or raise ProviderError."""
    try:
        payload = json.loads(raw)
        content = payload["choices"][0]["message"]["content"]
    except ValueError as error:
        raise ProviderError(f"The server's answer is not JSON: {_excerpt(raw)}") from error
    except (KeyError, IndexError, TypeError) as error:
        raise ProviderError(f"The server's answer is not a chat completion: {_excerpt(raw)}") from error
    if not isinstance(content, str):
        raise ProviderError("The chat completion has no text content.")
    # Some local models wrap JSON in a Markdown fence even when asked for a JSON object.
    fenced = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", content, re.DOTALL)
    try:
        answer = json.loads(fenced.group(1) if fenced else content)
    except ValueError as error:
        raise ProviderError(f"The model's answer is not JSON: {content[:MAX_ERROR_CHARS]!r}") from error
    if not isinstance(answer, dict):
        raise ProviderError(f"The model's answer is not a JSON object: {content[:MAX_ERROR_CHARS]!r}")
    return answer


def _error_detail(raw: bytes) -> str:
    """Return the message of an OpenAI-style error body, or the start of the body."""
    try:
        error = json.loads(raw).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:MAX_ERROR_CHARS]
    except (ValueError, AttributeError):
        pass
    return _excerpt(raw)


def _excerpt(raw: bytes) -> str:
    """Return the start of a body for an error message."""
    return repr(raw[:MAX_ERROR_CHARS].decode("utf-8", "replace"))


def _text(answer: dict, key: str) -> str:
    """Return answer[key] as a string or raise ProviderError."""
    value = answer.get(key)
    if not isinstance(value, str):
        raise ProviderError(f"The model's answer has no string {key!r}: {answer!r:.{MAX_ERROR_CHARS}}")
    return value


def _list_of(answer: dict, key: str, kind: type) -> list:
    """Return answer[key] as a list of kind (bools are not numbers here) or raise ProviderError."""
    value = answer.get(key)
    if not isinstance(value, list) or not all(
        isinstance(item, kind) and not isinstance(item, bool) for item in value
    ):
        raise ProviderError(
            f"The model's answer has no list of {kind.__name__} {key!r}: {answer!r:.{MAX_ERROR_CHARS}}"
        )
    return value


def _unit_number(answer: dict, key: str) -> float:
    """Return answer[key] as a number in [0, 1] or raise ProviderError."""
    value = answer.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ProviderError(f"The model's {key!r} is not a number from 0 to 1: {value!r}")
    return float(value)
