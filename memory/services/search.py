"""Hybrid search: full-text and vector rankings fused with reciprocal rank fusion (RRF)."""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F
from pgvector.django import CosineDistance

from ..providers.embeddings import get_embedding_provider

RRF_K = 60  # the constant from Cormack et al.; damps the weight of the very top ranks
CANDIDATES = 50
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Hit:
    memory: object
    score: float
    ranks: dict = field(default_factory=dict)  # {"text": 1-based rank, "vector": ...}


def text_ranking(memories, query, limit=CANDIDATES):
    """Memories matching any word of the query, best full-text rank first."""
    words = WORD.findall(query.lower())
    if not words:
        return []
    # OR over the query's words: short memories rarely contain every word of a question.
    tsquery = SearchQuery(" | ".join(words), search_type="raw", config="english")
    return list(memories.filter(search_vector=tsquery)
                .annotate(rank=SearchRank(F("search_vector"), tsquery)).order_by("-rank", "-created_at")[:limit])


def vector_ranking(memories, query, limit=CANDIDATES, provider=None):
    """Memories nearest to the query's embedding (the HNSW index serves the ORDER BY ... LIMIT)."""
    vector = (provider or get_embedding_provider()).embed([query])[0]
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
