"""Posts: intake, tagging and persistence with 2 workers, then every post redelivered.

    .venv/bin/python bench/posts.py [--posts 50000] [--workers 2]

On a fresh embedded PostgreSQL + Redis: N generated channel posts go through parse_batch in
batches of 1,000 (what POST /api/posts does; each new post queues tag_post after the commit);
`manage.py rqworker` subprocesses on the memory queue's high lane run tag_post and persist_tags
(enrich_post and index_post wait on the normal lane: not part of this measure). Then the same N
posts are delivered again through the intake (each must be a duplicate), and every tag_post run is
enqueued again, as a queue redelivery would (each must be skipped by the worker cache or the Redis
dedup key). Rates are posts per second of wall time from the first run started to the last finished.
"""

import argparse
import os
import random
import subprocess
import sys
import time

from cluster import ROOT, start_cluster, stop_workers

CHANNELS = ["acme-news", "globex-updates", "initech-status", "umbrella-research"]
SUBJECTS = ["Acme Corp", "the billing service", "PostgreSQL 17", "the Berlin office", "the mobile app",
            "Kubernetes upgrade", "the pricing page", "Globex contract", "the on-call rotation", "TLS certificates"]
PATTERNS = ["{a} ships support for {b} today, read more at https://news.example.com/{n}",
            "Outage report: {a} was down for {n} minutes after {b} changes.",
            "We are hiring engineers to work on {a} and {b} in the Berlin office.",
            "Weekly digest #{n}: {a}, {b} and what comes next.",
            "{a} and {b} partnership announced; details in the thread."]
BATCH = 1000
LANE = "memory.high"


def texts(count, seed=11):
    rng = random.Random(seed)
    for n in range(count):
        a, b = rng.sample(SUBJECTS, 2)
        yield n, rng.choice(CHANNELS), rng.choice(PATTERNS).format(a=a, b=b, n=rng.randint(10, 99999))


def start_workers(count, log_dir):
    procs = []
    for number in range(count):
        log = open(log_dir / f"worker{number}.log", "w")
        procs.append(subprocess.Popen([sys.executable, "manage.py", "rqworker", LANE], cwd=ROOT, env=dict(os.environ),
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def wait_for(predicate, what, timeout=3600, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def span(runs):
    from django.db.models import Max, Min

    bounds = runs.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return (bounds["last"] - bounds["first"]).total_seconds()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    n = options.posts
    services, var_dir = start_cluster("p")
    workers = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.utils import timezone

        from jobs import RunStatus
        from jobs.models import JobRun
        from memory.models import Workspace
        from memory.posts.intake import parse_batch
        from memory.posts.models import Post, PostEnrichment
        from memory.posts.tasks import tag_post

        workspace = Workspace.objects.create(name="Bench", slug="bench")
        items = [{"external_id": str(i), "channel": channel, "text": text} for i, channel, text in texts(n)]

        def deliver():
            outcomes = {}
            for start in range(0, n, BATCH):
                for outcome, _ in parse_batch(workspace, items[start:start + BATCH], Post.Source.API):
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
            return outcomes

        started = time.perf_counter()
        first = deliver()
        intake_s = time.perf_counter() - started
        tags = JobRun.objects.filter(task_path="memory.posts.tasks.tag_post")
        persists = JobRun.objects.filter(task_path="memory.posts.tasks.persist_tags")
        finished = [RunStatus.SUCCEEDED, RunStatus.DEAD]
        workers = start_workers(options.workers, var_dir)
        # The polls count over a ledger of 2n..3n runs (a JSON filter among them): on 2 cores, polling a
        # 50,000-post run every half second would take CPU from the workers being measured.
        every = 0.5 if n <= 5_000 else 3.0
        wait_for(lambda: tags.filter(status__in=finished).count() == n
                 and persists.filter(status__in=finished).count() >= tags.filter(result__status="tagged").count(),
                 "tagging and persistence", every=every)
        tag_s, persist_s = span(tags), span(persists)
        persisted = PostEnrichment.objects.filter(kind="tags").count()
        dead = tags.filter(status=RunStatus.DEAD).count() + persists.filter(status=RunStatus.DEAD).count()

        mark = timezone.now()
        again = deliver()
        ids = list(Post.objects.order_by("pk").values_list("pk", flat=True))
        tag_post.enqueue_many([(pk,) for pk in ids])
        wait_for(lambda: tags.filter(status__in=finished).count() == 2 * n, "redelivered tagging", every=every)
        redelivered = tags.filter(enqueued_at__gte=mark)
        skipped = redelivered.filter(result__status__in=["cached", "deduplicated"]).count()
        from_redis = redelivered.filter(result__status="deduplicated").count()
        rewrites = PostEnrichment.objects.filter(kind="tags", updated_at__gte=mark).count()
        new_persists = persists.filter(enqueued_at__gte=mark).count()
        from django.db import connections

        connections.close_all()
    finally:
        stop_workers(workers)
        services.destroy()

    duplicate_rate = again.get("duplicate", 0) / n
    dedup = min(duplicate_rate, skipped / n)
    print(f"intake  : {n} posts ({first}) in {intake_s:.1f} s ({n / intake_s:.0f}/s)")
    print(f"tag     : {n} in {tag_s:.1f} s ({n / tag_s:.0f}/s) on {options.workers} workers; {dead} dead runs")
    print(f"persist : {persisted} rows in {persist_s:.1f} s ({persisted / persist_s:.0f}/s)")
    print(f"redeliver: intake {again}; tag_post skipped {skipped}/{n} ({from_redis} by the Redis key, "
          f"{skipped - from_redis} by a worker cache); {new_persists} persist runs; {rewrites} rows rewritten")
    print(f"posts: posts={n} tag_per_s={n / tag_s:.0f} persist_per_s={persisted / persist_s:.0f} "
          f"redelivery_dedup={dedup:.2f} rewrites={rewrites}")


if __name__ == "__main__":
    main()
