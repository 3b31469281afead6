"""Retrieval quality on a development set of multi-session conversations, and search latency at scale.

    .venv/bin/python bench/retrieval.py [--memories 100000] [--latency-queries 200] [--tune] [--steps]
                                        [--integer-queries]

Quality: the development set of bench/conversations.py (3,840 conversation turns, each a memory with
its speaker in metadata and its session time as created_at; 400 questions with known evidence
turns: paraphrases naming the speaker, "when did ...", "who ...", and questions naming a date).
The questions are split by conversation: those about the even-numbered conversations are the tuning
half (what --tune's grid and the constants in memory/search/ were chosen on), those about the odd
ones the held-out half every reported figure comes from; all 3,840 turns stay searchable for both.
For full-text only, vector only and fused (hybrid) search it prints R@5, R@10 (a question counts if
any evidence turn is in the top k) and MRR@10 on the held-out half, overall and per kind of
question. It also prints fused R@10 with the text side's candidate budget scaled down to this
corpus's size (memory.search.hybrid.MATCH_BUDGET_ROWS x 3,840 / --memories), which binds here as
often as the real budget binds at --memories. Embeddings are the real local model's (cached under
var/bench-cache/ between runs).

Latency: --memories more turns (other seeds of the same generator) go into a second project; their
embeddings reuse the development set's vectors with small noise, so 100,000 texts need not be
embedded on CPU. The HNSW index is rebuilt after the load and the table analysed, as after a bulk
import. p50/p95 is the time of one hybrid_search call (query embedding included) scoped to that
project, in this process (no HTTP). The same run times the baselines, alternating them per query
so that the machine's load weighs on all alike, and prints the ratios and the load average:
session 5's search (the two rankings as separate ORM queries), hybrid_search without the text
side's candidate budget (every row any query term matches is scored), and the query embedding alone.

--steps first times each step of a search at --memories (parsing the words, the tokenizer, the
model's run, the statement, fusion in Python, reading the hits whole) over two rounds of the
queries, and lists the slowest 5% (the p95 tail) step by step, with the garbage collections that
ran during each search.

--integer-queries (needs the `bench` extra's onnx) also embeds the questions through
bench/integer_queries.py's integer-arithmetic rewrite of the packaged model and prints fused
recall with those query vectors (held-out half; at --memories, both halves) and their latency
beside the others'. The search itself is unchanged.

--tune prints, on the tuning half, the fusion grid and the candidate budgets the constants in
memory/search/ were chosen from.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

from cluster import ROOT, start_cluster

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conversations  # noqa: E402
from retrieval_steps import percentiles, steps  # noqa: E402

DEPTH = 10
CACHE = ROOT / "var" / "bench-cache"


def embed_cached(texts):
    """The local model's vectors for texts, from (and into) an on-disk cache keyed by text."""
    from memory.providers.embeddings import get_embedding_provider

    provider = get_embedding_provider()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{hashlib.sha256(provider.model_id.encode()).hexdigest()[:12]}.npz"
    cached = dict(np.load(path)) if path.exists() else {}
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    missing = sorted({t for t, k in zip(texts, keys) if k not in cached})
    if missing:
        for text, vector in zip(missing, provider.embed(missing)):
            cached[hashlib.sha256(text.encode()).hexdigest()] = vector
        np.savez(path, **cached)
    return np.stack([cached[k] for k in keys])


def insert_turns(cursor, workspace, project, turns, vectors):
    """Bulk-insert turns as memories (speaker in metadata, session time as created_at)."""
    import json

    rows = []
    for turn, vector in zip(turns, vectors):
        metadata = json.dumps({"speaker": turn.speaker, "conversation": turn.conversation, "session": turn.session})
        rows.append((workspace.pk, project.pk, turn.content, turn.content, turn.at, metadata,
                     "[" + ",".join(f"{x:.5f}" for x in vector) + "]"))
    raw = cursor.cursor  # psycopg's own: executemany(returning=True) gives back the ids
    raw.executemany(
        "INSERT INTO memory_memory (workspace_id, project_id, content, layer, source, importance, strength,"
        " strength_updated_at, access_count, content_hash, created_at, updated_at, metadata, embedding,"
        " embedding_model, embedded_hash, graph_extracted_hash) VALUES (%s, %s, %s, 'episodic', 'message', 0.5, 1.0,"
        " now(), 0, encode(sha256(convert_to(%s, 'UTF8')), 'hex'), %s, now(), %s::jsonb, %s::vector, 'bench', '', '')"
        " RETURNING id", rows, returning=True)
    ids = []
    while True:
        ids.append(raw.fetchone()[0])
        if not raw.nextset():
            break
    return ids


def metrics(found_ranks):
    """(R@5, R@10, MRR@10) from the 1-based rank of each question's first evidence hit (None: missed)."""
    n = len(found_ranks)
    return (sum(r is not None and r <= 5 for r in found_ranks) / n,
            sum(r is not None and r <= 10 for r in found_ranks) / n,
            sum(1 / r for r in found_ranks if r is not None and r <= DEPTH) / n)


def first_hit(ids, evidence):
    return next((position for position, pk in enumerate(ids, start=1) if pk in evidence), None)


def split(dev):
    """(tuning questions, held-out questions): by the parity of the conversation the evidence is in."""
    halves = ([], [])
    for question in dev.questions:
        halves[dev.turns[question.evidence[0]].conversation % 2].append(question)
    return halves


def scaled_budget(scale_memories, corpus):
    """The candidate budget that selects the same share of this corpus as the real one does at scale."""
    from memory.search.hybrid import MATCH_BUDGET_ROWS

    return max(1.0, MATCH_BUDGET_ROWS * corpus / scale_memories) if scale_memories else MATCH_BUDGET_ROWS


def quality(memories, questions, pk_of, budget):
    """{method: {kind: [rank of first evidence or None]}} for text, vector and hybrid search.

    "text" and "fused" use the real candidate budget; "fused@scale" the one scaled to the corpus.
    """
    from memory.search.hybrid import hybrid_search, text_ranking, vector_ranking

    methods = {
        "text": lambda q: [m.pk for m in text_ranking(memories, q)[:DEPTH]],
        "vector": lambda q: [m.pk for m in vector_ranking(memories, q)[:DEPTH]],
        "fused": lambda q: [h.memory.pk for h in hybrid_search(memories, q, limit=DEPTH)],
        "fused@scale": lambda q: [h.memory.pk for h in hybrid_search(memories, q, limit=DEPTH, budget=budget)],
    }
    ranks = {name: {} for name in methods}
    for question in questions:
        evidence = {pk_of[i] for i in question.evidence}
        for name, method in methods.items():
            ranks[name].setdefault(question.kind, []).append(first_hit(method(question.text), evidence))
    return ranks


def print_quality(ranks):
    kinds = sorted(next(iter(ranks.values())))
    print(f"{'method':11} {'questions':12} {'R@5':>6} {'R@10':>6} {'MRR':>6}")
    for name, by_kind in ranks.items():
        for kind in ["all", *kinds]:
            values = sum(by_kind.values(), []) if kind == "all" else by_kind[kind]
            r5, r10, mrr = metrics(values)
            print(f"{name:11} {kind + f' ({len(values)})':12} {r5:6.3f} {r10:6.3f} {mrr:6.3f}")


def tune(memories, questions, pk_of):
    """Print R@5 / R@10 / MRR per fusion setting and short-text discount, best R@10 last."""
    from memory.providers.embeddings import get_embedding_provider
    from memory.search import fusion, hybrid
    from memory.search.terms import query_terms

    cases = []
    for question in questions:
        terms = query_terms(question.text, memories.db)
        vector = get_embedding_provider().embed([question.text])[0]
        found = {}  # pk -> (text score, cosine similarity, words)
        for m in hybrid.text_ranking(memories, question.text, terms=terms, vector=vector):
            found[m.pk] = (m.rank, m.raw_similarity or 0.0, len(m.content.split()))
        for m in hybrid.vector_ranking(memories, question.text, limit=hybrid.VECTOR_CANDIDATES, vector=vector,
                                       terms=terms):
            found.setdefault(m.pk, (getattr(m, "rank", 0.0) or 0.0, 1.0 - m.distance, len(m.content.split())))
        cases.append(({pk_of[i] for i in question.evidence}, found))
    settings = [("rrf", {"k": k, "text_weight": w}) for k in (1, 5, 10, 20, 60) for w in (0.3, 0.5, 0.7)]
    settings += [("scores", {"text_weight": w}) for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    results = []
    for short in (0.0, 1.0, 2.0, 4.0, 8.0):
        for method, params in settings:
            ranked = []
            for evidence, found in cases:
                text = dict(sorted(((pk, t) for pk, (t, _, _) in found.items() if t > 0), key=lambda i: -i[1]))
                vector = dict(sorted(((pk, sim * words / (words + short)) for pk, (_, sim, words) in found.items()),
                                     key=lambda i: -i[1]))
                fused = fusion.fuse_scores({"text": text, "vector": vector}, method=method, **params)
                ranked.append(first_hit(sorted(fused, key=lambda pk: (-fused[pk], pk))[:DEPTH], evidence))
            results.append((metrics(ranked), f"short={short:g} {method} {params}"))
    for (r5, r10, mrr), setting in sorted(results, key=lambda item: (item[0][1], item[0][2])):
        print(f"tune {setting:50} R@5 {r5:.3f} R@10 {r10:.3f} MRR {mrr:.3f}")


def tune_budget(memories, questions, pk_of, scale_memories, corpus):
    """Print fused R@10 / MRR on the tuning half per candidate budget, each scaled to this corpus."""
    from memory.search.hybrid import hybrid_search

    for budget in (250, 500, 1000, 2000, 4000, None):
        scaled = None if budget is None else max(1.0, budget * corpus / scale_memories)
        ranked = [first_hit([h.memory.pk for h in hybrid_search(memories, q.text, limit=DEPTH, budget=scaled)],
                            {pk_of[i] for i in q.evidence}) for q in questions]
        r5, r10, mrr = metrics(ranked)
        print(f"tune budget {budget} at {scale_memories:,} (here {scaled}): R@5 {r5:.3f} R@10 {r10:.3f} MRR {mrr:.3f}")


def hybrid_search_separately(memories, query, limit=DEPTH):
    """Session 5's hybrid search, the baseline (memory.search.hybrid.hybrid_search_apart)."""
    from memory.search.hybrid import hybrid_search_apart

    return hybrid_search_apart(memories, query, limit)


def load_scale(workspace, count, dev_vectors):
    """(the memories of a project of `count` generated turns, seconds the load took), indexed and analysed."""
    from django.db import connection

    from memory.models import Memory, Project
    from memory.search.terms import lexeme_frequencies

    project = Project.objects.create(workspace=workspace, name="Scale", slug="scale")
    noise = np.random.default_rng(11)
    seed, loaded = 100, 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS memory_embedding_hnsw")
        while loaded < count:
            turns = conversations.build(seed=seed).turns[:count - loaded]
            base = dev_vectors[np.arange(loaded, loaded + len(turns)) % len(dev_vectors)]
            vectors = base + noise.normal(0, 0.02, base.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            insert_turns(cursor, workspace, project, turns, vectors)
            loaded += len(turns)
            seed += 1
        cursor.execute("CREATE INDEX memory_embedding_hnsw ON memory_memory USING hnsw (embedding vector_cosine_ops)"
                       " WITH (m = 16, ef_construction = 64)")
        cursor.execute("ANALYZE memory_memory")
    load_s = time.perf_counter() - started
    # The row estimates and rarities of the table as it is now (a process re-reads them every 5 minutes).
    lexeme_frequencies.clear()
    return Memory.objects.filter(project=project).unexpired(), load_s


def latency(memories, queries, integer=None):
    """p50/p95 ms of hybrid_search over `memories`.

    Returns ((p50, p95) of hybrid_search, {baseline: (p50, p95)}). The baselines, timed in the
    same loop: session 5's path (hybrid_search_separately), hybrid_search without the text side's
    candidate budget, the query embedding alone, and, given `integer` (bench/integer_queries.py),
    hybrid_search and the embedding alone with the integer query path.
    """
    from memory.providers.embeddings import get_embedding_provider
    from memory.search.hybrid import hybrid_search

    provider = get_embedding_provider()
    timed = {
        "hybrid_search": lambda query: hybrid_search(memories, query),
        "session 5 (separate queries)": lambda query: hybrid_search_separately(memories, query),
        "no candidate budget": lambda query: hybrid_search(memories, query, budget=None),
        "query embedding alone": lambda query: provider.embed([query]),
    }
    if integer is not None:
        timed["hybrid_search, integer query embedding"] = lambda query: hybrid_search(memories, query, provider=integer)
        timed["integer query embedding alone"] = lambda query: integer.embed([query])
    for query in queries[:5]:  # warm the model, the caches and the connection
        for search in timed.values():
            search(query)
    samples = {name: [] for name in timed}
    for query in queries:  # alternated, so that a burst of load from elsewhere weighs on all alike
        for name, search in timed.items():
            started = time.perf_counter()
            search(query)
            samples[name].append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(samples.pop("hybrid_search"))
    baselines = {}
    for name, values in samples.items():
        base50, base95 = baselines[name] = percentiles(values)
        print(f"{name}: p50 {base50:.1f} ms, p95 {base95:.1f} ms; hybrid_search is {p50 / base50:.2f}x (p50)"
              f" and {p95 / base95:.2f}x (p95) of it")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return (p50, p95), baselines


def fused_with(memories, questions, pk_of, provider, label):
    """Print fused R@5 / R@10 / MRR of the questions with their embeddings from `provider`."""
    from memory.search.hybrid import hybrid_search

    ranks = [first_hit([h.memory.pk for h in hybrid_search(memories, q.text, limit=DEPTH, provider=provider)],
                       {pk_of[i] for i in q.evidence}) for q in questions]
    r5, r10, mrr = metrics(ranks)
    print(f"fused, {label} ({len(questions)}): R@5 {r5:.3f} R@10 {r10:.3f} MRR {mrr:.3f}")


def at_scale(memories, tuning, held_out, pk_of, scale_memories):
    """Print fused R@5 / R@10 / MRR of the development set searched while the other turns are in the table.

    The development set's own project is searched as before, but the term rarities and row
    estimates (and so which terms select the text side's rows) are those of the whole table, as at
    `scale_memories` memories, rather than of 3,840 turns.
    """
    from memory.search.hybrid import hybrid_search

    for name, questions in (("tuning", tuning), ("held-out", held_out)):
        ranks = [first_hit([h.memory.pk for h in hybrid_search(memories, q.text, limit=DEPTH)],
                           {pk_of[i] for i in q.evidence}) for q in questions]
        r5, r10, mrr = metrics(ranks)
        print(f"fused at {scale_memories:,} memories, {name} half ({len(questions)}): R@5 {r5:.3f} R@10 {r10:.3f}"
              f" MRR {mrr:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000, help="memories for the latency part (0: skip)")
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--tune", action="store_true", help="print the fusion grid")
    parser.add_argument("--steps", action="store_true", help="time each step of a search at --memories")
    parser.add_argument("--integer-queries", action="store_true",
                        help="also measure queries embedded on integer arithmetic (bench/integer_queries.py)")
    options = parser.parse_args()
    services, _ = start_cluster("r")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from memory.models import Memory, Project, Workspace

        call_command("migrate", verbosity=0)
        dev = conversations.build()
        started = time.perf_counter()
        vectors = embed_cached([turn.content for turn in dev.turns])
        embed_s = time.perf_counter() - started
        workspace = Workspace.objects.create(name="Bench", slug="bench")
        project = Project.objects.create(workspace=workspace, name="Dev", slug="dev")
        with connection.cursor() as cursor:
            ids = insert_turns(cursor, workspace, project, dev.turns, vectors)
            cursor.execute("ANALYZE memory_memory")
        pk_of = dict(zip((turn.pk for turn in dev.turns), ids))
        memories = Memory.objects.filter(project=project).unexpired()
        tuning, held_out = split(dev)
        print(f"development set: {len(dev.turns)} turns, {len(dev.questions)} questions: {len(tuning)} to tune on,"
              f" {len(held_out)} held out (embedded in {embed_s:.0f} s)")
        budget = scaled_budget(options.memories, len(dev.turns))
        print(f"held-out half; fused@scale: the candidate budget scaled to {budget:.0f} rows here")
        ranks = quality(memories, held_out, pk_of, budget)
        print_quality(ranks)
        integer = None
        if options.integer_queries:
            from integer_queries import IntegerQueries

            from memory.providers.embeddings import get_embedding_provider

            integer = IntegerQueries(get_embedding_provider())
            fused_with(memories, held_out, pk_of, integer, f"integer query embedding ({integer.replaced} MatMuls)")
        if options.tune:
            tune(memories, tuning, pk_of)
            tune_budget(memories, tuning, pk_of, options.memories or 100_000, len(dev.turns))
        p50 = p95 = float("nan")
        if options.memories:
            queries = [q.text for q in dev.questions][:options.latency_queries]
            scale, load_s = load_scale(workspace, options.memories, vectors)
            if options.steps:
                steps(scale, queries, DEPTH)
            (p50, p95), _ = latency(scale, queries, integer)
            print(f"latency at {options.memories:,} memories (loaded in {load_s:.0f} s), {len(queries)} queries:"
                  f" p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            at_scale(memories, tuning, held_out, pk_of, options.memories)
            if integer is not None:
                for name, questions in (("tuning", tuning), ("held-out", held_out)):
                    fused_with(memories, questions, pk_of, integer,
                               f"integer query embedding at {options.memories:,} memories, {name} half")
        from django.db import connections

        connections.close_all()
    finally:
        services.destroy()
    r5, r10, mrr = metrics(sum(ranks["fused"].values(), []))
    print(f"retrieval: r5={r5:.3f} r10={r10:.3f} mrr={mrr:.3f} p50_ms={p50:.1f} p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
