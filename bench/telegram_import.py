"""Telegram end to end: generate an export, import it, score and embed it with 2 workers.

    .venv/bin/python bench/telegram_import.py [--messages 100000] [--workers 2]

On a fresh embedded PostgreSQL + Redis: the export (one supergroup; texts as strings and as
entity arrays, replies, forwards, edits, stickers and service messages, like Telegram Desktop
writes them) is imported by `manage.py memory import_telegram` in a child process whose peak RSS
is read from the kernel; then `manage.py rqworker` subprocesses run score_unscored_messages and
embed_messages_batch runs of 1,000 ids. Goals: under 10 minutes in total on 2 cores, importer
peak RSS under 300 MB.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time

from cluster import ROOT, start_cluster, stop_workers

EMBED_RUN_SIZE = 1000
PEOPLE = [("Alice Chen", 1001), ("Bob Martin", 1002), ("Carol Diaz", 1003), ("Dave Kim", 1004),
          ("Priya Nair", 1005), ("Tom Weber", 1006)]
SUBJECTS = ["the nightly backup", "the billing export", "the deploy pipeline", "the mobile login", "the search index",
            "the staging database", "the Globex contract", "the on-call rotation", "the pricing page",
            "the TLS certificate", "the container image", "the invoice emails"]
PATTERNS = ["Can someone look at {s}? It failed again this morning.", "I think {s} is fine now, thanks!",
            "We decided to move {s} to next sprint.", "Does anyone know who owns {s}?",
            "{s} is slow since the last release, see https://grafana.example.com/d/{n}",
            "Please review my change to {s} before Friday", "ok", "lol", "+1", "Reminder: {s} review at 15:00",
            "Customer reported a problem with {s}, ticket INC-{n}", "Fixed {s}, deploying now"]


def write_export(path, count, seed=7):
    """Write a Telegram Desktop result.json of `count` messages, streamed to disk."""
    rng = random.Random(seed)
    start = int(dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC).timestamp())
    with open(path, "w", encoding="utf-8") as out:
        out.write('{\n "name": "Platform team",\n "type": "private_supergroup",\n "id": 1987654321,\n "messages": [\n')
        for n in range(1, count + 1):
            unix = start + n * 20
            stamp = dt.datetime.fromtimestamp(unix, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            name, uid = rng.choice(PEOPLE)
            message = {"id": n, "type": "message", "date": stamp, "date_unixtime": str(unix), "from": name,
                       "from_id": f"user{uid}"}
            roll = rng.random()
            if roll < 0.01:
                message = {"id": n, "type": "service", "date": stamp, "date_unixtime": str(unix), "actor": name,
                           "actor_id": f"user{uid}", "action": "pin_message", "message_id": max(1, n - 3),
                           "text": "", "text_entities": []}
            elif roll < 0.03:
                message.update(text="", text_entities=[], media_type="sticker", file="(File not included)",
                               sticker_emoji="👍")
            else:
                text = rng.choice(PATTERNS).format(s=rng.choice(SUBJECTS), n=rng.randint(1000, 9999))
                if roll < 0.15:
                    message["text"] = [f"@{name.split()[0].lower()} ", {"type": "bold", "text": text}]
                else:
                    message["text"] = text
                if roll > 0.9:
                    message["reply_to_message_id"] = max(1, n - rng.randint(1, 20))
                if 0.85 < roll < 0.87:
                    message["forwarded_from"] = "Status bot"
                if 0.5 < roll < 0.52:
                    message["edited"], message["edited_unixtime"] = stamp, str(unix + 30)
            out.write(("  " if n == 1 else ",\n  ") + json.dumps(message, ensure_ascii=False))
        out.write("\n ]\n}\n")


def start_workers(count, log_dir):
    from jobs.queues import worker_queue_names

    procs = []
    for number in range(count):
        log = open(log_dir / f"worker{number}.log", "w")
        procs.append(subprocess.Popen([sys.executable, "manage.py", "rqworker", *worker_queue_names()], cwd=ROOT,
                                      env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    return procs


def wait_for(predicate, what, timeout=1800):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    services, var_dir = start_cluster("t")
    workers = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from jobs import RunStatus
        from jobs.models import JobRun
        from memory.chats.models import Message
        from memory.chats.tasks import embed_messages_batch, score_unscored_messages
        from memory.models import Workspace

        Workspace.objects.create(name="Bench", slug="bench")
        export = var_dir / "result.json"
        started = time.perf_counter()
        write_export(export, options.messages)
        print(f"export: {options.messages} messages, {export.stat().st_size / 1e6:.1f} MB written in "
              f"{time.perf_counter() - started:.1f} s")

        total_started = time.perf_counter()
        started = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "memory", "import_telegram", str(export), "--workspace", "bench",
                        "--no-score"], cwd=ROOT, env=dict(os.environ), check=True, stderr=subprocess.DEVNULL)
        import_s = time.perf_counter() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        stored = Message.objects.count()

        workers = start_workers(options.workers, var_dir)
        started = time.perf_counter()
        score_unscored_messages.enqueue()
        wait_for(lambda: not Message.objects.unscored().exists(), "scoring")
        score_s = time.perf_counter() - started

        started = time.perf_counter()
        ids = list(Message.objects.with_text().order_by("pk").values_list("pk", flat=True))
        embed_messages_batch.enqueue_many([(ids[i:i + EMBED_RUN_SIZE],) for i in range(0, len(ids), EMBED_RUN_SIZE)])
        runs = JobRun.objects.filter(task_path="memory.chats.tasks.embed_messages_batch")
        wait_for(lambda: not runs.exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.DEAD]).exists(), "embedding")
        embed_s = time.perf_counter() - started
        total_s = time.perf_counter() - total_started
        embedded = Message.objects.filter(embedding__isnull=False).count()
        failed = runs.filter(status=RunStatus.DEAD).count()
        from django.db import connections

        connections.close_all()
    finally:
        stop_workers(workers)
        services.destroy()

    n = options.messages
    print(f"import : {n} messages read, {stored} stored in {import_s:.1f} s ({n / import_s:.0f}/s), "
          f"peak RSS {peak_rss_mb:.0f} MB (goal < 300)")
    print(f"score  : {stored} in {score_s:.1f} s ({stored / score_s:.0f}/s)")
    print(f"embed  : {embedded} with text in {embed_s:.1f} s ({embedded / embed_s:.0f}/s) on {options.workers} "
          f"workers, {failed} dead runs")
    print(f"total  : {total_s:.1f} s (goal < 600)")
    print(f"telegram_import: messages={n} import_per_s={n / import_s:.0f} score_per_s={stored / score_s:.0f} "
          f"embed_per_s={embedded / embed_s:.0f} total_s={total_s:.0f} peak_rss_mb={peak_rss_mb:.0f}")


if __name__ == "__main__":
    main()
