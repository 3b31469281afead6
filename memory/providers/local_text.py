"""The deterministic local text generator: extractive summaries and answers, pattern facts, a decision rubric."""

import re
from collections.abc import Sequence

import numpy as np

from memory.providers.decision_rubric import assess_decision_record
from memory.providers.embeddings import get_embedding_provider
from memory.providers.keywords import distinct_phrases, extract_topics
from memory.providers.sentences import Sentence, split_texts
from memory.providers.generation_interface import Answer, Assessment, Embed, Reflection, Summary, Triple
from memory.providers.triple_patterns import extract_triples

# 0.7 favours sentences central to the texts over variety, the usual MMR setting for summaries.
MMR_LAMBDA = 0.7
# Embedding dominates the cost, so a summary reads at most this many sentences (the first ones).
MAX_SENTENCES = 1000
# A sentence this close to one already chosen says it again in other words; MMR alone still
# picks such a twin when a cluster of near-copies dominates the centroid.
NEAR_DUPLICATE_SIMILARITY = 0.85
MIN_WORDS = 3
MAX_KEY_POINTS = 8
MAX_INSIGHTS = 5
MAX_ACTIONS = 10
REFLECTION_SENTENCES = 3
ANSWER_SENTENCES = 3
# An answer keeps a sentence only if it is at least this close to the question, relative to the
# closest sentence: relative because cosine levels differ between embedding models, and without
# it every answer would be padded to ANSWER_SENTENCES with whatever the passages say.
ANSWER_RELATIVE_SIMILARITY = 0.5

_ACTION_CUES = re.compile(
    r"\b(?:should|must|need(?:s|ed)?\s+to|have\s+to|has\s+to|got\s+to|todo|to-do|let['’]?s|let\s+us"
    r"|action\s+items?|follow[- ]?ups?|follow\s+up|next\s+steps?|make\s+sure|remember\s+to|don['’]?t\s+forget"
    r"|please|we['’]ll|we\s+will|i['’]ll|i\s+will|assigned\s+to|due\s+(?:by|on)|deadline)\b",
    re.IGNORECASE,
)
# Imperative openers ("Fix the build", "Email Bob"): chat notes often drop the subject.
_IMPERATIVE_VERBS = frozenset(
    "add ask book call check clean close contact create deploy document draft email escalate file fix "
    "follow investigate merge migrate move order plan prepare publish remove rename renew reply review "
    "run schedule send set ship sign start stop submit test update upgrade write".split()
)


class LocalTextGenerator:
    """Summarise and answer with embeddings and MMR, extract facts with patterns, assess with a rubric."""

    def __init__(self, embed: Embed | None = None, diversity_lambda: float = MMR_LAMBDA):
        self._embed = embed
        self.diversity_lambda = diversity_lambda

    def summarize(self, texts: Sequence[str], max_sentences: int = 3) -> Summary:
        """Pick the max_sentences most central, least redundant sentences, in their original order."""
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1.")
        texts = list(texts)
        candidates = _candidate_sentences(texts)
        if not candidates:
            return Summary("", [], [])
        vectors = self._vectors([sentence.text for sentence in candidates])
        picked = sorted(
            (candidates[index] for index in rank_by_mmr(vectors, max_sentences, self.diversity_lambda)),
            key=lambda sentence: (sentence.text_index, sentence.position),
        )
        return Summary(
            summary=" ".join(sentence.text for sentence in picked),
            key_points=distinct_phrases(
                (topic.phrase for topic in extract_topics(texts, MAX_KEY_POINTS * 2)), MAX_KEY_POINTS
            ),
            source_indexes=sorted({sentence.text_index for sentence in picked}),
        )

    def answer(self, question: str, passages: Sequence[str]) -> Answer:
        """Quote the passage sentences closest to the question, most relevant first, by MMR to the question."""
        passages = list(passages)
        candidates = _candidate_sentences(passages)
        if not question.strip() or not candidates:
            return Answer("", [])
        vectors = self._vectors([question, *(sentence.text for sentence in candidates)])
        query, vectors = vectors[0], vectors[1:]
        ranked = rank_by_mmr(vectors, ANSWER_SENTENCES, self.diversity_lambda, query=query)
        relevance = vectors @ query
        best = float(relevance[ranked[0]])
        if best <= 0:
            return Answer("", [])  # nothing in the passages is about the question
        picked = [candidates[i] for i in ranked if relevance[i] >= ANSWER_RELATIVE_SIMILARITY * best]
        return Answer(
            text=" ".join(sentence.text for sentence in picked),
            source_indexes=sorted({sentence.text_index for sentence in picked}),
        )

    def extract_triples(self, text: str) -> list[Triple]:
        """Return the facts the sentence patterns find in text."""
        return extract_triples(text)

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
        """Score the decision against the documented rubric."""
        return assess_decision_record(
            title, context, options, chosen, rationale, owner=owner, decided_on=decided_on
        )

    def reflect(self, texts: Sequence[str]) -> Reflection:
        """Summarise texts, rank their most telling statements and collect the actions they ask for."""
        texts = list(texts)
        candidates = _candidate_sentences(texts)
        if not candidates:
            return Reflection("", [], [])
        # Actions come from every sentence: "Fix CI" is too short to summarise but still a task.
        actions = list(dict.fromkeys(s.text for s in split_texts(texts) if is_action(s.text)))
        vectors = self._vectors([sentence.text for sentence in candidates])
        central = rank_by_mmr(vectors, REFLECTION_SENTENCES, self.diversity_lambda)
        summary = " ".join(
            candidates[index].text
            for index in sorted(central, key=lambda i: (candidates[i].text_index, candidates[i].position))
        )
        actionable = [index for index, sentence in enumerate(candidates) if is_action(sentence.text)]
        statements = sorted(set(range(len(candidates))) - set(actionable))
        ranked = rank_by_mmr(vectors[statements], MAX_INSIGHTS, self.diversity_lambda) if statements else []
        return Reflection(
            summary=summary,
            insights=[candidates[statements[index]].text for index in ranked],
            actions=actions[:MAX_ACTIONS],
        )

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Embed the texts and make sure every row has unit length."""
        embed = self._embed or _embedding_provider_embed
        vectors = np.asarray(embed(texts), dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(f"embed returned shape {vectors.shape} for {len(texts)} texts.")
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def rank_by_mmr(
    vectors: np.ndarray,
    count: int,
    diversity_lambda: float = MMR_LAMBDA,
    max_similarity: float = NEAR_DUPLICATE_SIMILARITY,
    query: np.ndarray | None = None,
) -> list[int]:
    """Return up to count row indexes by Maximal Marginal Relevance to query, skipping near-copies.

    Without a query the rows' centroid stands in for it: what the rows are mostly about.
    """
    total = len(vectors)
    if total == 0 or count < 1:
        return []
    target = vectors.mean(axis=0) if query is None else np.asarray(query, dtype=np.float64)
    target = target / max(float(np.linalg.norm(target)), 1e-12)
    relevance = vectors @ target
    redundancy = np.zeros(total)
    chosen: list[int] = []
    available = np.ones(total, dtype=bool)
    while len(chosen) < count and available.any():
        scores = diversity_lambda * relevance - (1.0 - diversity_lambda) * redundancy
        # Rounding first makes near-ties (float noise) fall to the earlier sentence, every time.
        scores = np.where(available, np.round(scores, 9), -np.inf)
        best = int(np.argmax(scores))
        chosen.append(best)
        available[best] = False
        similarity = vectors @ vectors[best]
        available &= similarity < max_similarity
        redundancy = similarity if len(chosen) == 1 else np.maximum(redundancy, similarity)
    return chosen


def is_action(sentence: str) -> bool:
    """Tell whether a sentence asks for something to be done: an obligation cue or an imperative."""
    if sentence.rstrip().endswith("?"):
        return False
    if _ACTION_CUES.search(sentence):
        return True
    first = re.match(r"[^\w]*(\w+)", sentence)
    return bool(first) and first.group(1).lower() in _IMPERATIVE_VERBS


def _candidate_sentences(texts: list[str]) -> list[Sentence]:
    """Return the distinct sentences worth summarising, keeping short ones only if nothing else is left."""
    sentences = split_texts(texts)
    distinct: dict[str, Sentence] = {}
    for sentence in sentences:
        # "Shipped it." and "shipped it!" are the same sentence to a summary.
        distinct.setdefault(" ".join(re.findall(r"\w+", sentence.text.casefold())), sentence)
    unique = list(distinct.values())
    substantial = [sentence for sentence in unique if len(sentence.text.split()) >= MIN_WORDS]
    return (substantial or unique)[:MAX_SENTENCES]


def _embedding_provider_embed(texts: list[str]) -> np.ndarray:
    """Embed with the configured embedding provider, built on first use."""
    return get_embedding_provider().embed(texts)
