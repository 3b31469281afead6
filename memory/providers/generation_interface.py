"""The text-generation interface, its result types and errors, shared by the generators."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

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
