"""Hybrid search: full-text and vector rankings fused with reciprocal rank fusion (RRF)."""

import operator
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections, transaction
from django.db.models import F
from pgvector.django import CosineDistance

from ..providers.embeddings import get_embedding_provider

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very top ranks
CANDIDATES = 50
# An HNSW scan returns at most hnsw.ef_search rows (pgvector's default: 40), fewer than the
# CANDIDATES asked for; a wider search list also finds more of the true nearest neighbours.
EF_SEARCH = 2 * CANDIDATES
TEXT_CONFIG = "english"  # the config memory.search_vector is generated with


@dataclass
class Hit:
    memory: object
    score: float
    ranks: dict = field(default_factory=dict)  # {"text": 1-based rank, "vector": ...}


def text_query(query):
    """The query's words OR-ed, each word parsed by Postgres exactly as the documents were.

    Words are split on whitespace only and each goes through plainto_tsquery, because Postgres's
    parser keeps identifiers whole or splits them its own way: it indexes "INC-4412" as 'inc' and
    '-4412', "15.6" as '15.6' and "db-prod-03.internal" as one host token. A regex split of the
    query gives '4412', '15' and '6', which never match, and leaves ticket ids, error codes,
    versions and hosts invisible to full-text search, the one ranking that can tell near-identical
    notes apart by them. The parts of one word are AND-ed
    (plainto_tsquery), so "INC-4412" matches that incident and not every INC-* note; the words are
    OR-ed, since short memories rarely contain every word of a question.
    """
    # Each distinct word once, and OR-ed as a balanced tree: a left fold nests one level per word, and
    # compiling 200 nested levels overflows Python's recursion limit; a balanced tree is log2(n) deep.
    terms = [SearchQuery(word, config=TEXT_CONFIG) for word in dict.fromkeys(query.split())]
    if not terms:
        return None
    while len(terms) > 1:
        paired = [operator.or_(terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
        terms = paired + terms[len(terms) - len(terms) % 2:]
    return terms[0]


def text_ranking(memories, query, limit=CANDIDATES):
    """Memories matching any word of the query, best full-text rank first."""
    tsquery = text_query(query)
    if tsquery is None:
        return []
    return list(memories.filter(search_vector=tsquery)
                .annotate(rank=SearchRank(F("search_vector"), tsquery)).order_by("-rank", "-created_at")[:limit])


def vector_ranking(memories, query, limit=CANDIDATES, provider=None):
    """Memories nearest to the query's embedding (the HNSW index serves the ORDER BY ... LIMIT)."""
    vector = (provider or get_embedding_provider()).embed([query])[0]
    with transaction.atomic(using=memories.db):
        with connections[memories.db].cursor() as cursor:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, limit)}")
        return list(memories.filter(embedding__isnull=False)
                    .order_by(CosineDistance("embedding", vector.tolist()))[:limit])


def fuse(rankings, limit):
    """Reciprocal rank fusion of named rankings: sum of 1 / (k + rank) over the lists."""
    hits = {}
    for name, ranking in rankings.items():
        for rank, memory in enumerate(ranking, start=1):
            hit = hits.setdefault(memory.pk, Hit(memory, 0.0))
            hit.score += 1.0 / (RRF_K + rank)
            hit.ranks[name] = rank
    return sorted(hits.values(), key=lambda h: (-h.score, h.memory.pk))[:limit]


def hybrid_search(memories, query, limit=10, provider=None):
    """Rank `memories` (already scoped to what the caller may see) for `query`."""
    return fuse({"text": text_ranking(memories, query), "vector": vector_ranking(memories, query, provider=provider)},
                limit)
