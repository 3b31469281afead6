"""bench/retrieval.py --steps: each step of a search timed, and the slowest searches listed step by step."""

import os
import statistics
import time


def percentiles(samples):
    """(p50, p95) of the samples."""
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def search_steps(memories, query, provider, depth):
    """{step: ms} of one hybrid_search done step by step (the same calls), and its hit pks."""
    from memory.search import hybrid
    from memory.search.terms import query_terms

    times, clock = {}, time.perf_counter
    started = clock()
    terms = query_terms(query, memories.db)
    times["terms"] = clock()
    tokenizer = getattr(provider, "tokenizer", None)
    if tokenizer is not None:  # the local model: its tokenizer's share of the embedding, timed apart
        tokenizer.encode(query)
    times["tokenize"] = clock()
    vector = provider.embed([query])[0]
    times["embed"] = clock()
    found = hybrid.read_candidates(memories, terms, vector)
    times["statement"] = clock()
    hits = hybrid.fuse_candidates(found, depth)
    times["fusion"] = clock()
    hits = hybrid.read_whole(memories, hits)
    times["read hits"] = clock()
    previous, ms = started, {}
    for step, at in times.items():
        ms[step], previous = (at - previous) * 1000, at
    ms["total"] = (previous - started) * 1000
    return ms, [hit.memory.pk for hit in hits]


def steps(memories, queries, depth, rounds=2):
    """Print each step's p50/p95 over `rounds` passes of the queries, and what the slowest searches spent.

    "tokenize" is the local model's tokenizer alone, run once more before "embed" (the whole query
    embedding, which tokenizes again), so "total" exceeds a search by that much. "gc" counts the
    searches during which a garbage collection ran.
    """
    import gc

    from memory.providers.embeddings import get_embedding_provider
    from memory.search.hybrid import hybrid_search

    provider = get_embedding_provider()
    collections = []
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
    try:
        for query in queries[:5]:
            search_steps(memories, query, provider, depth)
        samples = []
        for _ in range(rounds):
            for query in queries:
                collections.clear()
                ms, pks = search_steps(memories, query, provider, depth)
                ms["gc"] = len(collections)
                samples.append((query, ms))
                if pks != [hit.memory.pk for hit in hybrid_search(memories, query, limit=depth)]:
                    raise AssertionError(f"the steps found other hits than hybrid_search for {query!r}")
    finally:
        gc.callbacks.pop()
    names = list(samples[0][1])
    print(f"steps of {len(samples)} searches ({rounds} rounds of {len(queries)} queries), ms:")
    for name in names:
        p50, p95 = percentiles([ms[name] for _, ms in samples])
        print(f"  {name:10} p50 {p50:6.2f}  p95 {p95:6.2f}  max {max(ms[name] for _, ms in samples):6.2f}")
    slowest = sorted(samples, key=lambda sample: -sample[1]["total"])[:max(1, len(samples) // 20)]
    print(f"the slowest {len(slowest)} searches (the p95 tail), ms per step:")
    for query, ms in slowest:
        print("  " + " ".join(f"{name} {ms[name]:.1f}" for name in names) + f"  {query!r}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
