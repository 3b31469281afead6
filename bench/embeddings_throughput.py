"""Sentences per second through the configured embedding provider (the packaged MiniLM by default).

    .venv/bin/python bench/embeddings_throughput.py [--sentences 2000] [--rounds 3]

The sentences are short team-chat and note lines, generated deterministically so every run embeds
the same text. One warm-up call loads the model; the summary reports the median round, since on a
shared 2-core machine a single round can measure the neighbours more than the model.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_SENTENCES_PER_S = 450

PEOPLE = ["Ana", "Bruno", "Chen", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca"]
THINGS = [
    "the billing service", "the onboarding flow", "the search index", "our Postgres replica", "the mobile app",
    "the pricing page", "the Q3 roadmap", "the customer export", "the staging cluster", "the retention report",
    "the SSO integration", "the release checklist", "the invoice PDF", "the Redis cache", "the data warehouse",
]
VERBS = [
    "fixed", "reviewed", "broke", "migrated", "deployed", "rolled back", "documented", "benchmarked",
    "refactored", "paused", "approved", "rewrote", "load-tested", "reverted", "shipped",
]
WHEN = ["yesterday", "this morning", "last sprint", "on Friday", "after the outage", "before the demo", "tonight"]
REASONS = [
    "because latency doubled under load", "since the vendor changed their API", "to unblock the EU launch",
    "after three customers complained", "so finance can close the quarter", "because the tests were flaky",
    "to cut the cloud bill", "as agreed in the planning meeting",
]
TEMPLATES = [
    "{p} {v} {t} {w}.",
    "{p} {v} {t} {r}.",
    "Decision: we keep {t} as it is until {p} is back.",
    "Can someone check {t}? It looks slow {w}.",
    "{p} thinks we should move {t} to a new team {r}.",
    "Reminder: {t} needs an owner before the next release.",
    "{p} and {q} disagree about {t}; {q} wants to wait.",
    "Notes from the sync: {p} {v} {t}, {q} will follow up {r}.",
    "Incident {n}: {t} was down for {m} minutes {w}.",
    "Revenue from {t} grew by {m}% {w}, {r}.",
    "TODO({p}): ask {q} why {t} was {v} {w}",
    "ok",
    "thanks {p}!",
]


def sentences(count, seed=42):
    """Return count varied, reproducible short sentences."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        p, q = rng.sample(PEOPLE, 2)
        out.append(rng.choice(TEMPLATES).format(
            p=p, q=q, t=rng.choice(THINGS), v=rng.choice(VERBS), w=rng.choice(WHEN), r=rng.choice(REASONS),
            n=rng.randint(100, 999), m=rng.randint(2, 95),
        ))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from memory.providers import get_embedding_provider

    texts = sentences(args.sentences)
    started = time.perf_counter()
    provider = get_embedding_provider()
    provider.embed(texts[:64])
    load_s = time.perf_counter() - started

    rates = []
    for round_no in range(1, args.rounds + 1):
        started = time.perf_counter()
        vectors = provider.embed(texts)
        elapsed = time.perf_counter() - started
        rates.append(len(texts) / elapsed)
        print(f"round {round_no}: {len(texts)} sentences in {elapsed:.2f} s = {rates[-1]:.0f} sentences/s")
    assert vectors.shape == (len(texts), provider.dimensions)

    median = statistics.median(rates)
    batch = getattr(provider, "batch_size", "?")
    print(f"model {provider.model_id} ({provider.dimensions}-d), batch {batch}, load + warm-up {load_s:.2f} s, "
          f"{os.cpu_count()} cores, median {median:.0f}/s, best {max(rates):.0f}/s, worst {min(rates):.0f}/s")
    verdict = "ok" if median >= GOAL_SENTENCES_PER_S else "MISSED"
    print(f"embeddings_throughput: sentences_per_s={median:.0f} goal>={GOAL_SENTENCES_PER_S}={verdict} "
          f"model={provider.model_id}")


if __name__ == "__main__":
    main()
