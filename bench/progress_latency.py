"""Latency of live progress: from a worker's progress report to a WebSocket client's receipt.

    .venv/bin/python bench/progress_latency.py [--runs 10] [--reports 100] [--delay 0.005]

The whole real path, on a fresh embedded PostgreSQL + Redis: a `manage.py rqworker` subprocess
runs jobs.samples.slow_with_progress; each report is written to the ledger (its timestamp,
progress_updated_at, is the worker's clock at the report) and published by jobs.live through
channels_redis; Daphne (a subprocess on 127.0.0.1) runs the RunConsumer for each run; an
autobahn WebSocket client, logged in as staff, stamps each event on receipt. The client runs in a
child process of this script (`--watch`) that never imports Django: Django's set-up loads the
daphne app, which ties autobahn to Twisted for the whole process.
Both throttles are off (JOBS_PROGRESS_INTERVAL_SECONDS=0, JOBS_LIVE_EVENT_INTERVAL_SECONDS=0),
so every report is one event: runs x reports samples (1,000 by default) after one warm-up run.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime

from cluster import ROOT, start_cluster
GOAL_P95_MS = 100.0


def start_services():
    # Both throttles off: every progress report becomes an event to time.
    return start_cluster("b", JOBS_PROGRESS_INTERVAL_SECONDS="0", JOBS_LIVE_EVENT_INTERVAL_SECONDS="0")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args, log_path):
    log = open(log_path, "w")
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=dict(os.environ), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_listening(port, proc, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited with {proc.returncode}; see {log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"daphne did not listen on 127.0.0.1:{port} within {timeout}s; see {log_path}")


def staff_session_cookie():
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.create_superuser("bench", password=None)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def watch(port, run_ids, cookie, timeout):
    """Open one WebSocket per run; print "ready" after the snapshots, then every (time, event) as JSON."""
    from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

    inbox = asyncio.Queue()

    class Watcher(WebSocketClientProtocol):
        def onMessage(self, payload, is_binary):
            inbox.put_nowait((time.time(), json.loads(payload)))  # stamped before anything else

        def onClose(self, was_clean, code, reason):
            inbox.put_nowait((time.time(), {"type": "closed", "code": code, "reason": reason}))

    loop = asyncio.get_running_loop()
    for run_id in run_ids:
        factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/ws/runs/{run_id}/",
                                         origin=f"http://127.0.0.1:{port}", headers={"Cookie": cookie})
        factory.protocol = Watcher
        await loop.create_connection(factory, "127.0.0.1", port)
    for _ in run_ids:
        _, event = await asyncio.wait_for(inbox.get(), timeout)
        if event["type"] != "run.snapshot":
            raise SystemExit(f"expected a snapshot, got {event}")
    print("ready", flush=True)
    received = []
    unfinished = set(run_ids)
    deadline = time.monotonic() + timeout
    while unfinished:
        at, event = await asyncio.wait_for(inbox.get(), max(0.1, deadline - time.monotonic()))
        if event["type"] == "closed":
            raise SystemExit(f"a WebSocket closed early: {event}")
        received.append((at, event))
        if event["type"].endswith((".completed", ".failed", ".cancelled")):
            unfinished.discard(event["run_id"])
    print(json.dumps(received), flush=True)


def watch_in_child(port, run_ids, cookie, start_worker, timeout):
    """Run the WebSocket client in a child process; start the worker once it watches every run."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--watch", str(port), *run_ids], cwd=ROOT, stdout=subprocess.PIPE,
        env=dict(os.environ, BENCH_COOKIE=cookie, BENCH_TIMEOUT=str(timeout)), text=True,
    )
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit(f"the WebSocket client failed (exit {child.wait(10)})")
        start_worker()
        received = json.loads(child.stdout.readline() or "null")
        if child.wait(timeout) != 0 or received is None:
            raise SystemExit(f"the WebSocket client failed (exit {child.returncode})")
    finally:
        if child.poll() is None:
            child.kill()
    by_run = {run_id: [] for run_id in run_ids}
    for at, event in received:
        by_run[event["run_id"]].append((at, event))
    return by_run


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--reports", type=int, default=100, help="progress reports per run")
    parser.add_argument("--delay", type=float, default=0.005, help="seconds between reports")
    parser.add_argument("--watch", nargs="+", metavar=("PORT", "RUN_ID"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.watch:
        port, *run_ids = options.watch
        asyncio.run(watch(int(port), run_ids, os.environ["BENCH_COOKIE"], float(os.environ["BENCH_TIMEOUT"])))
        return

    services, var_dir = start_services()
    procs = []
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from jobs.queues import worker_queue_names
        from jobs.samples import slow_with_progress

        call_command("migrate", verbosity=0)
        cookie = staff_session_cookie()
        port = free_port()
        daphne_log = var_dir / "log" / "daphne.log"
        procs.append(start(["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"],
                           daphne_log))
        wait_until_listening(port, procs[-1], daphne_log)
        warm_up = str(slow_with_progress.enqueue(total=20, delay=options.delay).id)
        run_ids = [str(slow_with_progress.enqueue(total=options.reports, delay=options.delay).id)
                   for _ in range(options.runs)]
        connections.close_all()

        def start_worker():
            procs.append(start(["manage.py", "rqworker", *worker_queue_names(["default"])],
                               var_dir / "log" / "rqworker.log"))

        received = watch_in_child(port, [warm_up, *run_ids], cookie, start_worker, timeout=120)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        services.destroy()

    total_ms, publish_ms, deliver_ms = [], [], []
    for run_id in run_ids:
        events = received[run_id]
        if events[-1][1]["type"] != "job.completed":
            raise SystemExit(f"run {run_id} ended with {events[-1][1]['type']}")
        for at, event in events:
            if event["type"] != "job.progress":
                continue
            reported = datetime.fromisoformat(event["updated_at"]).timestamp()
            total_ms.append((at - reported) * 1000)
            publish_ms.append((event["at"] - reported) * 1000)
            deliver_ms.append((at - event["at"]) * 1000)
    expected = options.runs * options.reports
    p50, p95 = percentile(total_ms, 0.5), percentile(total_ms, 0.95)
    print("path      : rqworker subprocess -> ledger write -> jobs.live -> channels_redis -> "
          "Daphne on 127.0.0.1 (RunConsumer) -> autobahn WebSocket client")
    print(f"report->publish (ledger write, signal) p50 {percentile(publish_ms, 0.5):.2f} ms, "
          f"p95 {percentile(publish_ms, 0.95):.2f} ms")
    print(f"publish->receipt (Redis, Daphne, WebSocket) p50 {percentile(deliver_ms, 0.5):.2f} ms, "
          f"p95 {percentile(deliver_ms, 0.95):.2f} ms")
    print(f"report->receipt p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(total_ms):.2f} ms "
          f"({len(total_ms)} of {expected} progress events received)")
    print(f"progress_latency: p50={p50:.2f}ms p95={p95:.2f}ms events={len(total_ms)} "
          f"goal_p95<{GOAL_P95_MS:.0f}ms={'ok' if p95 < GOAL_P95_MS and len(total_ms) == expected else 'MISSED'}")


if __name__ == "__main__":
    main()
