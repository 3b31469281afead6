"""Score how well a decision is recorded against a fixed, documented rubric."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from memory.providers.generation_interface import Assessment


@dataclass(frozen=True)
class Criterion:
    """One rubric line: its name, its weight in the score and what earns it."""

    name: str
    weight: float
    earns_it: str


# The weights add up to 1; each criterion earns a credit in [0, 1] and the score is the weighted sum.
RUBRIC = (
    Criterion("title", 0.05, "a title of two words or more (one word: half)"),
    Criterion("context", 0.15, "context of 15 words or more (5-14 words: half)"),
    Criterion("options", 0.20, "two or more distinct options considered (one: a quarter)"),
    Criterion("chosen", 0.15, "a chosen option that is one of the options (chosen but not listed: a quarter)"),
    Criterion(
        "rationale", 0.20, "half for 20+ words (a quarter for 8+), half for a reason cue ('because', 'so that' ...)"
    ),
    Criterion("tradeoffs", 0.10, "a trade-off, risk, cost or downside named in the context or rationale"),
    Criterion("alternatives", 0.05, "the rationale names at least one option that was not chosen"),
    Criterion("owner", 0.05, "an owner given, or 'owner:' / 'decided by' / an @mention in the text"),
    Criterion("date", 0.05, "a decision date given, or a date in the text"),
)
WEIGHTS = {criterion.name: criterion.weight for criterion in RUBRIC}

_REASON = re.compile(
    r"\b(?:because|since|so that|in order to|due to|given that|as a result|therefore|thus|which means"
    r"|the reason|this lets|this allows|this means|this avoids)\b",
    re.IGNORECASE,
)
_TRADEOFF = re.compile(
    r"\b(?:trade-?offs?|downsides?|drawbacks?|risks?|risky|costs?|costly|cons|at the expense|however|but"
    r"|although|mitigat\w*|concerns?|limitations?|sacrific\w*|slower|harder|more expensive|lock-?in)\b",
    re.IGNORECASE,
)
_OWNER = re.compile(r"\b(?:owner|owned by|decided by|responsible|dri|assignee)\b|(?<!\w)@\w+", re.IGNORECASE)
_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\bQ[1-4][ -]?\d{4}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)


def assess_decision_record(
    title: str,
    context: str,
    options: Sequence[str],
    chosen: str,
    rationale: str,
    *,
    owner: str = "",
    decided_on: str = "",
) -> Assessment:
    """Return the rubric's score for a decision and a finding for every point it lost."""
    title, context, chosen, rationale = (value or "" for value in (title, context, chosen, rationale))
    distinct = list(dict.fromkeys(key for key in map(_normalized, options or ()) if key))
    chosen_key = _normalized(chosen)
    text = " ".join((title, context, rationale))
    credits: dict[str, float] = {}
    findings: list[str] = []

    title_words = len(title.split())
    credits["title"] = 1.0 if title_words >= 2 else 0.5 if title_words else 0.0
    if title_words < 2:
        findings.append("Give the decision a descriptive title." if title_words else "The decision has no title.")

    context_words = len(context.split())
    credits["context"] = 1.0 if context_words >= 15 else 0.5 if context_words >= 5 else 0.0
    if context_words < 5:
        findings.append("No context: describe the problem, its constraints and why a decision was needed.")
    elif context_words < 15:
        findings.append(
            f"The context is thin ({context_words} words): add the constraints and what forced the decision."
        )

    credits["options"] = 1.0 if len(distinct) >= 2 else 0.25 if distinct else 0.0
    if len(distinct) < 2:
        findings.append(
            "Only one option is recorded: list the alternatives that were considered."
            if distinct else "No options are recorded: list the alternatives that were considered."
        )

    # An exact match wins, so "Postgres" does not also claim "Postgres with Citus".
    matched = [option for option in distinct if option == chosen_key] or [
        option for option in distinct if chosen_key and _same_option(chosen_key, option)
    ]
    if not chosen_key:
        credits["chosen"] = 0.0
        findings.append("No chosen option is recorded.")
    elif matched:
        credits["chosen"] = 1.0
    else:
        credits["chosen"] = 0.25
        findings.append(f"The chosen option {chosen.strip()!r} is not one of the options considered.")

    rationale_words = len(rationale.split())
    has_reason = bool(_REASON.search(rationale))
    credits["rationale"] = (0.5 if rationale_words >= 20 else 0.25 if rationale_words >= 8 else 0.0) + (
        0.5 if has_reason else 0.0
    )
    if rationale_words == 0:
        findings.append("No rationale: explain why this option was chosen.")
    else:
        if rationale_words < 20:
            findings.append(f"The rationale is short ({rationale_words} words): explain the reasoning in more detail.")
        if not has_reason:
            findings.append("The rationale gives no explicit reason ('because', 'so that', 'due to' ...).")

    credits["tradeoffs"] = 1.0 if _TRADEOFF.search(" ".join((context, rationale))) else 0.0
    if not credits["tradeoffs"]:
        findings.append("No trade-offs or risks are mentioned: say what this choice costs or risks.")

    rejected = [option for option in distinct if option not in matched]
    rationale_key = _normalized(rationale)
    credits["alternatives"] = 1.0 if any(_contains_words(rationale_key, option) for option in rejected) else 0.0
    if rejected and not credits["alternatives"]:  # without alternatives the options finding says it
        findings.append("The rationale does not say why the other options were rejected.")

    credits["owner"] = 1.0 if (owner or "").strip() or _OWNER.search(text) else 0.0
    if not credits["owner"]:
        findings.append("No owner: record who made or owns the decision.")

    credits["date"] = 1.0 if str(decided_on or "").strip() or _DATE.search(text) else 0.0
    if not credits["date"]:
        findings.append("No date: record when the decision was made.")

    score = sum(WEIGHTS[name] * credit for name, credit in credits.items())
    return Assessment(round(min(max(score, 0.0), 1.0), 3), findings)


def _normalized(value: str) -> str:
    """Casefold, drop punctuation and collapse spaces, so 'Use Postgres.' equals 'use  postgres'."""
    return " ".join(re.sub(r"[^\w\s+#.-]", " ", value or "").casefold().replace(".", " ").split())


def _same_option(chosen: str, option: str) -> bool:
    """Tell whether the chosen text names this option ('Postgres' matches 'Use Postgres 16')."""
    return chosen == option or _contains_words(chosen, option) or _contains_words(option, chosen)


def _contains_words(haystack: str, needle: str) -> bool:
    """Tell whether needle occurs in haystack as whole words."""
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None
