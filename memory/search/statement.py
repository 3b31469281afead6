"""Both rankings of a hybrid search in one SQL statement: the candidates fusion reads, light.

memory.search.hybrid's text_ranking and vector_ranking each build an ORM query (two to three
statements, plus BEGIN / SET LOCAL / COMMIT around the vector scan); run one after the other for
every search, at 100,000 memories the database did under 2 ms of work while the searching process
spent some 20 ms (idle) compiling the querysets, formatting the query vector into two statements
and building 150 Memory objects from the rows (cProfile of 100 searches). Here the same two
rankings are one statement (CTEs over the caller's queryset, compiled once as a subquery that
PostgreSQL pulls up, so the GIN and HNSW indexes still serve it), the vector is sent once, and the
rows come back as plain tuples; only the hits fusion keeps are then read as Memory objects
(hybrid.read_whole).

The HNSW scan reads hnsw.ef_search (how many neighbours it collects; pgvector's default 40 is
fewer than the candidates asked for) and hnsw.iterative_scan (scan on when filters such as a
workspace's scope drop rows, rather than return fewer than LIMIT) when it fetches its first row,
which is after the CTE `query` has been evaluated for the scan's ORDER BY key: set_config(...,
true) there sets both for this statement's transaction only, without a transaction of our own.
"""

from dataclasses import dataclass

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections

# The ORDER BY key of the HNSW scan: the query CTE, evaluated (and so the settings made) before
# the scan fetches its first row.
QUERY_VECTOR = "(SELECT embedding FROM query)"

TEMPLATE = """WITH query AS MATERIALIZED (
  SELECT %s::vector AS embedding,
         set_config('hnsw.ef_search', %s, true) AS ef_search,
         set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan
), text_pool AS (
  SELECT scope.id, {text_score} AS rank
  FROM ({scope}) AS scope
  WHERE {text_match}
  ORDER BY rank DESC
  LIMIT {text_pool}
), text_side AS (
  SELECT pool.id, pool.rank, 1.0 - (memory.embedding <=> {query_vector}) AS similarity, memory.content
  FROM text_pool AS pool JOIN {table} AS memory ON memory.id = pool.id
  ORDER BY pool.rank DESC, similarity DESC
  LIMIT {text_limit}
), vector_side AS MATERIALIZED (
  SELECT scope.id, {vector_score} AS rank, scope.embedding <=> {query_vector} AS distance, scope.content
  FROM ({scope}) AS scope
  WHERE scope.embedding IS NOT NULL
  ORDER BY distance
  LIMIT {vector_limit}
)
SELECT 'text', id, rank, similarity, content FROM text_side
UNION ALL
SELECT 'vector', id, rank, 1.0 - distance, content FROM vector_side"""


@dataclass
class Candidate:
    """One row a ranking returned: what fusion reads (`rank`, `similarity`), and the text they came from."""

    pk: int
    content: str
    rank: float = 0.0
    similarity: float | None = None


def vector_literal(vector):
    """pgvector's text form of `vector`: 9 significant digits give every float4 (what pgvector stores) exactly.

    One %-format in C: a third of the time of joining repr() of each float, and a shorter text to parse.
    """
    values = np.asarray(vector, dtype=np.float32).tolist()
    return ("[" + ",".join(["%.9g"] * len(values)) + "]") % tuple(values)


def scope_sql(memories):
    """(SQL, params) of the caller's queryset as the rows the statement reads, without its ordering."""
    return memories.order_by().values_list("id", "search_vector", "embedding", "content").query.sql_with_params()


def score_sql(terms, vector_column, per_term):
    """(SQL, params) of the rarity-weighted text score (hybrid.TextScore's) over `vector_column`."""
    if not terms:
        return "0.0", []
    sql = per_term.replace("{vector}", vector_column)
    params = []
    for term in terms:
        params += [term.text, term.text, float(term.weight)]
    return "(" + " + ".join([sql] * len(terms)) + ")", params


def candidates(memories, terms, match, vector, *, per_term, text_pool, text_limit, vector_limit, ef_search):
    """{"text": [Candidate...], "vector": [Candidate...]} in each ranking's order, from one statement.

    `match` is the tsquery text selecting the text side's rows (None: no text side); the text side
    is ordered by score then raw similarity, the vector side by distance (hybrid adjusts and
    re-orders it). `similarity` is the raw cosine similarity on both. A queryset that can hold no
    row (`none()`, `pk__in=[]`: a user without a workspace) reads nothing.
    """
    found = {"text": [], "vector": []}
    try:
        scope, scope_params = scope_sql(memories)
    except EmptyResultSet:
        return found
    text_score, text_params = score_sql(terms, "scope.search_vector", per_term)
    # No term to match (a query of stop words): the text side selects nothing.
    text_match, match_params = ("scope.search_vector @@ %s::tsquery", [match]) if match else ("false", [])
    sql = TEMPLATE.format(
        text_match=text_match, text_score=text_score, vector_score=text_score, scope=scope, query_vector=QUERY_VECTOR,
        table=connections[memories.db].ops.quote_name(memories.model._meta.db_table),
        text_pool=int(text_pool), text_limit=int(text_limit), vector_limit=int(vector_limit),
    )
    params = [vector_literal(vector), str(int(ef_search)),
              *text_params, *scope_params, *match_params,
              *text_params, *scope_params]
    with connections[memories.db].cursor() as cursor:
        cursor.execute(sql, params)
        for side, pk, rank, similarity, content in cursor.fetchall():
            found[side].append(Candidate(pk, content, rank or 0.0, similarity))
    return found
