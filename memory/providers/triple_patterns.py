"""Extract (subject, predicate, object) facts from sentences with hand-written patterns."""

import functools
import re
from dataclasses import dataclass

from memory.providers.sentences import split_sentences
from memory.providers.generation_interface import Triple


def _character_class(predicate) -> str:
    """Return a regex character class body of every code point that satisfies predicate."""
    ranges = []
    start = previous = None
    for code in range(0x10000):
        if predicate(chr(code)):
            if start is None:
                start = code
            elif code != previous + 1:
                ranges.append((start, previous))
                start = code
            previous = code
    if start is not None:
        ranges.append((start, previous))
    return "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges
    )


# Capitalised words in any cased script ("Zürich", "Łódź", "Москва"); Python's re has no \p{Lu}.
_UPPER = _character_class(str.isupper)
_SP = r"[^\S\n]+"
_WORD = rf"[{_UPPER}][\w'’&-]*(?:\.\w+)*"
_CONNECTOR = r"(?:of|the|de|du|des|del|della|da|di|von|van|der|den|la|le|y|&)"
# A run of capitalised words, joined by lowercase particles: "Bank of America", "Acme Corp".
_PROPER = rf"{_WORD}(?:{_SP}(?:{_CONNECTOR}{_SP})?{_WORD})*"
_S = rf"(?<![\w'’-])(?P<s>{_PROPER})"
_O = rf"(?:the{_SP})?(?P<o>{_PROPER})"
# "a software company based in Zürich" -> "software company": stop at a clause or preposition.
_CLASS = (
    rf"(?P<o>[\w'’-]+(?:{_SP}[\w'’-]+){{0,4}}?)"
    rf"(?=[^\S\n]*(?:[,.;:!?)(]|$)|{_SP}(?:that|which|who|whose|with|in|at|for|from|and|but|or|"
    rf"since|because|where|when|based|located|headquartered|to|of|by|on|like|than)\b)"
)
_ROLE = (
    r"(?P<role>(?i:ceo|cto|cfo|coo|cio|cpo|ciso|co-?founder|founder|president|chair(?:man|woman|person)?"
    r"|managing director|director|general manager|manager|team lead|tech lead|owner))"
)
_TITLE = r"(?P<role>(?i:ceo|cto|cfo|coo|cio|cpo|ciso|co-?founder|founder|president))"

# Leading words a capitalised run picks up at the start of a sentence ("Yesterday Alice ...").
_LEADING_WORDS = frozenset(
    "the a an this that these those our their his her its my your yesterday today tomorrow then "
    "maybe perhaps possibly probably apparently reportedly allegedly "
    "now also however meanwhile later earlier recently last next in on at after before since when "
    "while so and but because although if according finally first".split()
)
_PRONOUNS = frozenset("i we you he she it they there this that who which what one someone".split())
_HEDGES = re.compile(
    r"\b(?:maybe|perhaps|might|may|possibly|probably|apparently|reportedly|allegedly|rumou?red|if)\b",
    re.IGNORECASE,
)
HEDGE_FACTOR = 0.6

# Canonical predicates for the verbs that state them, active voice.
_ACTIVE_VERBS = {
    "founded": "founded|co-founded|cofounded",
    "acquired": "acquired|acquires|bought|buys|purchased",
    "created": "created|creates",
    "built": "built|builds",
    "leads": "leads|led|heads|headed",
    "manages": "manages|managed",
    "uses": "uses|used|(?:is|are|was|were) using",
    "owns": "owns|owned",
    "works_at": (
        "works (?:at|for)|worked (?:at|for)|(?:is|was) working (?:at|for)|(?:is|was) employed (?:at|by)"
    ),
    "joined": "joined|joins",
    "reports_to": "reports to|reported to",
    "located_in": "(?:is|are|was|were) (?:located|based|headquartered) in",
}
_PASSIVE_VERBS = {
    "founded": "founded|co-founded",
    "acquired": "acquired|bought|purchased",
    "created": "created",
    "built": "built",
    "leads": "led|headed",
    "manages": "managed",
    "owns": "owned",
}
CONFIDENCE = {
    "founded": 0.85,
    "acquired": 0.85,
    "works_at": 0.85,
    "located_in": 0.85,
    "reports_to": 0.8,
    "leads": 0.75,
    "manages": 0.75,
    "owns": 0.75,
    "joined": 0.75,
    "created": 0.75,
    "built": 0.7,
    "uses": 0.65,
}
PASSIVE_PENALTY = 0.05


@dataclass(frozen=True)
class TriplePattern:
    """A compiled pattern, the predicate it states (None: from the role), and its confidence."""

    regex: re.Pattern
    predicate: str | None
    confidence: float


def _spaced(verbs: str) -> str:
    """Let the spaces inside a verb phrase match any run of spaces or tabs."""
    return verbs.replace(" ", _SP)


@functools.cache
def compiled_patterns() -> tuple[TriplePattern, ...]:
    """Compile every pattern once per process, most specific first."""
    # 0.1-0.3 s: the capitalised-letter class is large; compile on first use, not at import.
    patterns = []
    for predicate, verbs in _ACTIVE_VERBS.items():
        regex = re.compile(rf"{_S}{_SP}(?:{_spaced(verbs)}){_SP}{_O}")
        patterns.append(TriplePattern(regex, predicate, CONFIDENCE[predicate]))
    for predicate, verbs in _PASSIVE_VERBS.items():
        # "Globex was acquired by Acme": the object comes first.
        regex = re.compile(
            rf"(?<![\w'’-])(?P<o>{_PROPER}){_SP}(?:is|was|were|has been|had been){_SP}"
            rf"(?:{verbs}){_SP}by{_SP}(?:the{_SP})?(?P<s>{_PROPER})"
        )
        patterns.append(TriplePattern(regex, predicate, CONFIDENCE[predicate] - PASSIVE_PENALTY))
    # "Alice is the CEO of Acme" and "Alice, the CEO of Acme, ...".
    patterns.append(TriplePattern(
        re.compile(rf"{_S},?{_SP}(?:is|was|has been){_SP}(?:the{_SP}|a{_SP})?(?:new{_SP}|current{_SP})?"
                   rf"{_ROLE}{_SP}(?:of|at){_SP}{_O}"),
        None, 0.8,
    ))
    patterns.append(TriplePattern(
        re.compile(rf"{_S},{_SP}(?:the{_SP}|a{_SP})?(?:new{_SP}|current{_SP})?{_ROLE}{_SP}(?:of|at){_SP}{_O}"),
        None, 0.75,
    ))
    # "Acme's CEO, Alice Smith" and "Acme CEO Alice Smith"; only titles that are rarely a team
    # name's last word ("Product Owner Alice" is not Alice owning Product).
    patterns.append(TriplePattern(
        re.compile(rf"(?<![\w'’-])(?P<o>{_PROPER})(?:['’]s)?{_SP}{_TITLE},?{_SP}(?P<s>{_PROPER})"),
        None, 0.7,
    ))
    patterns.append(TriplePattern(
        re.compile(rf"{_S},{_SP}(?:a{_SP}[\w-]+{_SP})?(?:located|based|headquartered){_SP}in{_SP}{_O}"),
        "located_in", 0.7,
    ))
    patterns.append(TriplePattern(re.compile(rf"{_S}{_SP}(?:is|was){_SP}an?{_SP}{_CLASS}"), "is_a", 0.7))
    return tuple(patterns)


def extract_triples(text: str) -> list[Triple]:
    """Return the facts the patterns find in text, in the order they are stated, without duplicates."""
    best: dict[tuple[str, str, str], tuple[tuple[int, int, int], Triple]] = {}
    for sentence_index, sentence in enumerate(split_sentences(text or "")):
        if sentence.rstrip().endswith("?"):
            continue  # A question states no fact.
        hedged = bool(_HEDGES.search(sentence))
        for pattern_index, pattern in enumerate(compiled_patterns()):
            for match in pattern.regex.finditer(sentence):
                triple = _triple_from(match, pattern, hedged)
                if triple is None:
                    continue
                key = (triple.subject.casefold(), triple.predicate, triple.object.casefold())
                order = (sentence_index, match.start(), pattern_index)
                if key not in best or triple.confidence > best[key][1].confidence:
                    best[key] = (min(order, best[key][0]) if key in best else order, triple)
    return [triple for _, triple in sorted(best.values(), key=lambda item: item[0])]


def _triple_from(match: re.Match, pattern: TriplePattern, hedged: bool) -> Triple | None:
    """Build a triple from a match, or None when a side is only a pronoun or a sentence opener."""
    subject = _trim_leading_words(match.group("s"))
    obj = match.group("o").strip() if pattern.predicate == "is_a" else _trim_leading_words(match.group("o"))
    if not subject or not obj or subject.casefold() == obj.casefold():
        return None
    predicate = pattern.predicate or _role_predicate(match.group("role"))
    confidence = pattern.confidence * (HEDGE_FACTOR if hedged else 1.0)
    return Triple(subject, predicate, obj, round(confidence, 3))


def _role_predicate(role: str) -> str:
    """Name the relation a role states: a founder founded, a CEO is ceo_of."""
    role = role.lower()
    if role.replace("-", "").endswith("founder"):
        return "founded"
    return re.sub(r"\W+", "_", role) + "_of"


def _trim_leading_words(phrase: str) -> str:
    """Drop the sentence openers and determiners a capitalised run starts with; reject pronouns."""
    words = phrase.split()
    while words and words[0].lower() in _LEADING_WORDS:
        words.pop(0)
    while words and words[-1].lower() in {"of", "the", "&", "and"}:
        words.pop()
    phrase = re.sub(r"['’]s$", "", " ".join(words))
    return "" if phrase.lower() in _PRONOUNS else phrase
