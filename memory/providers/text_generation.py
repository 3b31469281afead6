"""The text-generation interface, its result types and errors, and the provider built from settings."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PROVIDERS = ("local", "openai")
DEFAULT_URL = "https://api.openai.com"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_SECONDS = 60.0

# list[str] -> (n, d) array of L2-normalised rows; the embedding provider's embed() fits.
Embed = Callable[[list[str]], np.ndarray]


class ProviderError(RuntimeError):
    """A generator failed: an HTTP error, a timeout, or an answer that is not the JSON asked for."""


@dataclass(frozen=True)
class Summary:
    """A short summary, its key points, and the indexes of the input texts it draws on."""

    summary: str
    key_points: list[str] = field(default_factory=list)
    source_indexes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """An answer to a question and the indexes of the passages it draws on."""

    text: str
    source_indexes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Triple:
    """A (subject, predicate, object) fact with the extractor's confidence in [0, 1]."""

    subject: str
    predicate: str
    object: str
    confidence: float


@dataclass(frozen=True)
class Assessment:
    """A decision's quality score in [0, 1] and what keeps it from a full score."""

    score: float
    findings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reflection:
    """What a set of texts says, what stands out, and what should be done next."""

    summary: str
    insights: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


@runtime_checkable
class TextGenerator(Protocol):
    """Summarise, answer from, extract facts from, assess and reflect on a team's texts."""

    def summarize(self, texts: Sequence[str], max_sentences: int = 3) -> Summary:
        """Summarise texts in at most max_sentences sentences."""
        ...

    def answer(self, question: str, passages: Sequence[str]) -> Answer:
        """Answer the question from the given passages, citing the ones used by index."""
        ...

    def extract_triples(self, text: str) -> list[Triple]:
        """Return the (subject, predicate, object) facts stated in text."""
        ...

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
        """Score how well a decision is recorded and list what it lacks."""
        ...

    def reflect(self, texts: Sequence[str]) -> Reflection:
        """Summarise texts, name their insights and the actions they call for."""
        ...


@dataclass(frozen=True)
class TextGenerationConfig:
    """The MEMORY_LLM_* settings that decide which generator is built."""

    provider: str
    url: str
    model: str
    api_key: str
    timeout: float

    @classmethod
    def from_settings(cls):
        """Read the settings now, so override_settings and pytest's settings fixture apply."""
        config = cls(
            provider=str(getattr(settings, "MEMORY_LLM_PROVIDER", "local")).strip().lower(),
            url=str(getattr(settings, "MEMORY_LLM_URL", "") or DEFAULT_URL),
            model=str(getattr(settings, "MEMORY_LLM_MODEL", "") or DEFAULT_MODEL),
            api_key=str(getattr(settings, "MEMORY_LLM_API_KEY", "") or ""),
            timeout=float(getattr(settings, "MEMORY_LLM_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
        )
        if config.provider not in PROVIDERS:
            raise ImproperlyConfigured(
                f"MEMORY_LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {config.provider!r}."
            )
        if config.timeout <= 0:
            raise ImproperlyConfigured("MEMORY_LLM_TIMEOUT_SECONDS must be positive.")
        return config


def get_text_generator(embed: Embed | None = None) -> TextGenerator:
    """Build the generator the settings name; the local one embeds with embed or the embedding provider."""
    config = TextGenerationConfig.from_settings()
    if config.provider == "openai":
        from memory.providers.openai_chat import OpenAIChatGenerator

        return OpenAIChatGenerator(config.url, config.model, api_key=config.api_key, timeout=config.timeout)
    from memory.providers.local_text import LocalTextGenerator

    return LocalTextGenerator(embed=embed)
