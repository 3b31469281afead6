"""Hybrid search: a rarity-weighted full-text ranking and a length-aware vector ranking, fused.

Measured on the development set of bench/retrieval.py (multi-session conversations, 400 questions
with known evidence turns); the constants below were chosen there (`bench/retrieval.py --tune`).
"""

import operator
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from django.db import connections, transaction
from django.db.models import Expression, F, FloatField, Value
from pgvector.django import CosineDistance

from memory.providers.embeddings import get_embedding_provider
from memory.search import statement
from memory.search.fusion import fuse_scores
from memory.search.terms import query_terms

CANDIDATES = 50
# Nearest neighbours read before the length adjustment re-orders them and keeps CANDIDATES. With
# TEXT_POOL, chosen at 100,000 memories (the development set searched beside 100,000 other turns,
# tuning half, fused R@10 / MRR, and this process's plus its PostgreSQL backend's CPU time per
# search): pool 200 and 100 neighbours 0.760 / 0.449, 15.3 ms; pool 100 and 100 neighbours the
# same, 14.5 ms; pool 100 and 60 neighbours 0.765 / 0.451, 13.4 ms (load 7.5 on 2 cores).
VECTOR_CANDIDATES = CANDIDATES + 10
# An HNSW scan returns at most hnsw.ef_search rows (pgvector's default: 40), fewer than the
# candidates asked for; a wider search list also finds more of the true nearest neighbours. Some of
# them the caller's scope then filters out; hybrid_search's iterative scan (memory.search.statement)
# scans on until VECTOR_CANDIDATES remain, and a second pass of the graph costs more than a wider
# first one: at 100,000 memories of which 4% were out of scope, the vector side took p50 5.0 ms
# with ef_search 100 (every query needed a second pass), 2.4 ms with 130 and 3.1 ms with 160
# (EXPLAIN ANALYZE, 150 questions, load 5.5 on 2 cores).
EF_SEARCH = VECTOR_CANDIDATES + 30
# How many memories the text side ranks at most, as estimated from the terms' frequencies. Every
# matched row costs a heap visit to read its search_vector (about 5 us on an idle machine, the
# bulk of a text query's time: EXPLAIN (ANALYZE, BUFFERS) at 100,000 memories showed 6,145 heap
# blocks for "What does Keiko work as now?"), so the terms that select rows are the rarest ones
# while their estimated rows fit this budget; the others still add to the score of the rows
# selected. When even the rarest term holds more (a frequent speaker's name), rows must hold the
# rarest terms together (AND-ed) until the estimate fits. Tuning half of the development set, with
# the budget scaled to its size (bench/retrieval.py --tune), fused R@10 for 250 / 500 / 1,000 /
# 2,000 / 4,000 rows at 100,000 memories: 0.695 / 0.720 / 0.730 / 0.725 / 0.730. Measured since at
# 100,000 memories itself (the development set searched beside 100,000 other turns, so the row
# estimates are the real ones; bench/retrieval.py's "at scale" lines), tuning half, fused R@10 /
# MRR for 250 / 500 / 750 / 1,000 rows: 0.720 / 0.431, 0.760 / 0.449, 0.755 / 0.450, 0.730 / 0.437;
# and half the rows scored is half the text side's work.
MATCH_BUDGET_ROWS = 500
# ts_rank's weights for {D, C, B, A}: D the day lexemes, B the speaker, A the text.
RANK_WEIGHTS = [0.5, 0.2, 0.5, 1.0]
# ts_rank normalisation 0: no length normalisation. With normalisation 1 (divide by 1 + log length)
# "Good for you!" outranked the speaker's long turn of the same day that a question was about,
# since both matched the same terms; unnormalised, memories matching the same terms tie and their
# similarity orders them. Tuning half of the development set, fused R@10: 0.720 against 0.710.
RANK_NORMALIZATION = 0
# The vector side favours very short turns ("Haha, totally." sits near every question): cosine
# similarity is scaled by words / (words + SHORT_TEXT_WORDS), which leaves long texts nearly as
# they are and halves a text of SHORT_TEXT_WORDS words (8 did best of 0, 1, 2, 4 and 8 on the
# development set: R@10 0.718 against 0.682 without the discount).
SHORT_TEXT_WORDS = 8.0
# Text candidates whose similarity is read to order those that tie on text (see VECTOR_CANDIDATES).
TEXT_POOL = 2 * CANDIDATES
# Columns search never reads back: a vector is 1.5 kB to send and parse per row.
UNREAD = ("embedding", "search_vector")
# What hybrid_search reads of its 100-odd candidates (the length discount needs the text); only the
# hits it returns are then read whole, in one query. Building 150 whole Memory objects (JSON
# metadata, five timestamps) took as long as the HNSW scan itself.
CANDIDATE_FIELDS = ("content",)


@dataclass
class Hit:
    memory: object
    score: float
    ranks: dict = field(default_factory=dict)  # {"text": 1-based rank, "vector": ...}


class TsQuery(SearchQuery):
    """A tsquery given as text ("'alic' & '-4412'"), cast as it is rather than parsed again."""

    def __init__(self, text):
        super().__init__(text, search_type="raw")

    def as_sql(self, compiler, connection, function=None, template=None):
        return super().as_sql(compiler, connection, template="%(expressions)s::tsquery")


def balanced(combine, items):
    """Combine items pairwise as a balanced tree.

    A left fold nests one level per query word, and compiling a few hundred nested expressions
    overflows Python's recursion limit; a balanced tree is log2(n) deep.
    """
    items = list(items)
    while len(items) > 1:
        paired = [combine(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = paired + items[len(items) - len(items) % 2:]
    return items[0]


def candidate_terms(terms, budget=MATCH_BUDGET_ROWS):
    """(the terms that select the text side's candidates, operator.or_ or operator.and_ to join them).

    The rarest terms OR-ed while their estimated rows fit `budget`; when the rarest alone holds
    more, it AND-ed with the next rarest ones until the estimate (terms taken as independent) fits.
    Terms without a row estimate (a table never analysed), or budget None: every term, OR-ed.
    """
    if budget is None or any(term.rows is None for term in terms):
        return list(terms), operator.or_
    by_rarity = sorted(terms, key=lambda term: term.rows)
    selected, rows = [by_rarity[0]], by_rarity[0].rows
    if rows > budget:
        for term in by_rarity[1:]:
            if rows <= budget:
                break
            selected.append(term)
            rows *= term.fraction
        return selected, operator.and_
    for term in by_rarity[1:]:
        if rows + term.rows > budget:
            break
        selected.append(term)
        rows += term.rows
    return selected, operator.or_


def candidate_match(terms, budget=MATCH_BUDGET_ROWS):
    """The tsquery selecting the text side's candidates (candidate_terms)."""
    selected, join = candidate_terms(terms, budget)
    return balanced(join, (TsQuery(term.text) for term in selected))


class TextScore(Expression):
    """The rarity-weighted sum of the ts_rank of each term the memory matches.

    ts_rank alone gives partial credit to a memory holding some of an AND-ed term's lexemes
    ("INV-2024-0142" for the term INV-2024-0123) and 1e-20 to one holding none; only a match
    counts. One expression node writing its SQL directly: built from Case/When/SearchRank nodes,
    Django resolved and compiled some thirty nodes per term for each of the three queries that
    use it: 4 of the 20 s cProfile counted for 100 searches at 100,000 memories.
    """

    output_field = FloatField()
    # The constants below are ours, written into the SQL; only the terms are parameters.
    per_term = ("CASE WHEN {vector} @@ %s::tsquery THEN ts_rank('{weights}'::real[], {vector}, %s::tsquery, {norm})"
                " * %s ELSE 0.0 END")

    def __init__(self, terms):
        super().__init__()
        self.terms = list(terms)
        self.vector = F("search_vector")

    def get_source_expressions(self):
        return [self.vector]

    def set_source_expressions(self, expressions):
        (self.vector,) = expressions

    def as_sql(self, compiler, connection):
        vector, vector_params = compiler.compile(self.vector)
        if vector_params:
            raise ValueError("search_vector compiled to SQL with parameters")
        sql = per_term_sql().replace("{vector}", vector)
        params = []
        for term in self.terms:
            params += [term.text, term.text, float(term.weight)]
        return "(" + " + ".join([sql] * len(self.terms)) + ")", params


def text_score(terms):
    return TextScore(terms)


def similarity(vector):
    return Value(1.0) - CosineDistance("embedding", vector.tolist())


def length_factor(text):
    words = len(text.split())
    return words / (words + SHORT_TEXT_WORDS)


def loading(queryset, fields):
    """The queryset reading only `fields` (and the pk), or every column but UNREAD when fields is None."""
    return queryset.defer(*UNREAD) if fields is None else queryset.only(*fields)


def text_ranking(memories, query, limit=CANDIDATES, *, terms=None, vector=None, budget=MATCH_BUDGET_ROWS,
                 fields=None):
    """Memories matching the query's terms, best first by the rarity-weighted sum of per-term ranks.

    Each term (a word as PostgreSQL parses it, or a date) is ranked by ts_rank alone and weighted
    by its inverse document frequency, so a name or a ticket id outweighs "said" or "week" (one
    ts_rank over the whole query weighs every word the same). Terms are OR-ed: a conversational
    memory rarely holds every word of a question; which terms select the rows that are scored is
    candidate_match's choice (within `budget` rows). The score is on each memory as `rank`. Given the
    query's embedding, memories that tie on text (every turn of the speaker a question names)
    are ordered by it, and each carries its `similarity`. `fields`: read only these columns (and
    the pk) of each memory; None reads every column but the embedding and search vector.
    """
    terms = query_terms(query, memories.db) if terms is None else terms
    if not terms:
        return []
    found = loading(memories.filter(search_vector=candidate_match(terms, budget)).annotate(rank=text_score(terms)),
                    fields)
    if vector is None:
        return list(found.order_by("-rank", "-created_at")[:limit])
    # Similarity only for the best TEXT_POOL by text: reading every matched row's vector costs a
    # TOAST fetch each, and ties deeper than that seldom reach the top.
    pool = found.order_by("-rank").values("pk")[:TEXT_POOL]
    found = list(loading(memories.filter(pk__in=pool).annotate(rank=text_score(terms), raw_similarity=similarity(vector)),
                         fields).order_by("-rank", "-raw_similarity")[:limit])
    for memory in found:
        memory.similarity = (memory.raw_similarity or 0.0) * length_factor(memory.content)
    return found


def vector_ranking(memories, query, limit=CANDIDATES, provider=None, *, vector=None, terms=None, fields=None):
    """Memories nearest the query's embedding, very short ones discounted; `similarity` on each.

    The HNSW index serves the ORDER BY ... LIMIT; the length adjustment then re-orders the
    VECTOR_CANDIDATES it returns. Given the query's terms, each also carries its text `rank`.
    `fields` as in text_ranking.
    """
    if vector is None:
        vector = (provider or get_embedding_provider()).embed([query])[0]
    wanted = max(VECTOR_CANDIDATES, limit)
    nearest = loading(memories.filter(embedding__isnull=False), fields).annotate(
        distance=CosineDistance("embedding", vector.tolist()))
    if terms:
        nearest = nearest.annotate(rank=text_score(terms))
    with transaction.atomic(using=memories.db):
        with connections[memories.db].cursor() as cursor:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, wanted)}")
        nearest = list(nearest.order_by("distance")[:wanted])
    for memory in nearest:
        memory.similarity = (1.0 - memory.distance) * length_factor(memory.content)
    return sorted(nearest, key=lambda memory: -memory.similarity)[:limit]


def fuse(rankings, limit):
    """Hits from {"text": [...], "vector": [...]}, by their fused score (memory.search.fusion).

    A memory found by one ranking carries the other's score too when the ranking computed it
    (`rank` on vector candidates, `similarity` on text candidates), so fusion weighs both
    signals for every candidate instead of counting an absent score as zero.
    """
    hits, signals = {}, {"text": {}, "vector": {}}
    for name, ranking in rankings.items():
        for rank, memory in enumerate(ranking, start=1):
            hits.setdefault(memory.pk, Hit(memory, 0.0)).ranks[name] = rank
            if getattr(memory, "rank", None):  # a vector candidate no term matches has rank 0
                signals["text"].setdefault(memory.pk, memory.rank)
            if getattr(memory, "similarity", None) is not None:
                signals["vector"].setdefault(memory.pk, memory.similarity)
    for name in signals:  # fusion reads each signal in rank order
        signals[name] = dict(sorted(signals[name].items(), key=lambda item: -item[1]))
    for pk, score in fuse_scores(signals).items():
        hits[pk].score = score
    return sorted(hits.values(), key=lambda h: (-h.score, h.memory.pk))[:limit]


def hybrid_search(memories, query, limit=10, provider=None, *, budget=MATCH_BUDGET_ROWS):
    """Rank `memories` (already scoped to what the caller may see) for `query`.

    The rankings of text_ranking and vector_ranking (same candidates, same order), read in one
    statement (memory.search.statement), fused, and only the hits read whole. `budget` bounds the
    rows the text side scores (candidate_match); None scores every row any term matches.
    """
    terms = query_terms(query, memories.db)
    vector = (provider or get_embedding_provider()).embed([query])[0]
    return read_whole(memories, fuse_candidates(read_candidates(memories, terms, vector, budget), limit))


def read_candidates(memories, terms, vector, budget=MATCH_BUDGET_ROWS):
    """Both rankings' candidates for the query's terms and embedding, in one statement (memory.search.statement)."""
    return statement.candidates(
        memories, terms, candidate_tsquery(terms, budget), vector, per_term=per_term_sql(),
        text_pool=TEXT_POOL, text_limit=CANDIDATES, vector_limit=VECTOR_CANDIDATES, ef_search=EF_SEARCH)


def fuse_candidates(found, limit):
    """The best `limit` hits of statement.candidates' rows: each side ordered and length-adjusted, then fused."""
    # Each side in its statement's order (UNION ALL promises none; the iterative HNSW scan returns
    # its rows nearly in order): text score, then raw similarity (a missing one first, as SQL's
    # DESC does); distance; then the vector side by length-adjusted similarity.
    text_side = sorted(found["text"], key=lambda c: (-c.rank, c.similarity is not None, -(c.similarity or 0.0)))
    for candidate in text_side:
        candidate.similarity = (candidate.similarity or 0.0) * length_factor(candidate.content)
    vector_side = sorted(found["vector"], key=lambda candidate: -candidate.similarity)
    for candidate in vector_side:
        candidate.similarity = candidate.similarity * length_factor(candidate.content)
    vector_side = sorted(vector_side, key=lambda candidate: -candidate.similarity)[:CANDIDATES]
    return fuse({"text": text_side, "vector": vector_side}, limit)


def hybrid_search_apart(memories, query, limit=10):
    """The text and vector rankings as queries of their own, fused: session 5's search.

    hybrid_search reads the same candidates in one statement; tests check the two agree and
    bench/retrieval.py times this as its baseline.
    """
    terms = query_terms(query, memories.db)
    vector = get_embedding_provider().embed([query])[0]
    rankings = {"text": text_ranking(memories, query, terms=terms, vector=vector, fields=CANDIDATE_FIELDS),
                "vector": vector_ranking(memories, query, vector=vector, terms=terms, fields=CANDIDATE_FIELDS)}
    return read_whole(memories, fuse(rankings, limit))


def candidate_tsquery(terms, budget=MATCH_BUDGET_ROWS):
    """candidate_match as tsquery text ("('alic') | ('puppi' & 'new')"); None without terms."""
    if not terms:
        return None
    selected, join = candidate_terms(terms, budget)
    return (" | " if join is operator.or_ else " & ").join(f"({term.text})" for term in selected)


def per_term_sql():
    """TextScore's SQL for one term, its search vector left as {vector}."""
    weights = "{" + ",".join(str(float(w)) for w in RANK_WEIGHTS) + "}"
    return TextScore.per_term.replace("{weights}", weights).replace("{norm}", str(int(RANK_NORMALIZATION)))


def read_whole(memories, hits):
    """The hits with their memories read whole (but UNREAD), keeping the signals fusion read on them.

    A memory deleted since the rankings read it is left out.
    """
    whole = memories.defer(*UNREAD).in_bulk([hit.memory.pk for hit in hits])
    kept = []
    for hit in hits:
        memory = whole.get(hit.memory.pk)
        if memory is None:
            continue
        for signal in ("rank", "similarity"):
            if hasattr(hit.memory, signal):
                setattr(memory, signal, getattr(hit.memory, signal))
        hit.memory = memory
        kept.append(hit)
    return kept
