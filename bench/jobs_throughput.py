"""Engram's job path vs bare RQ on the embedded PostgreSQL + Redis.

    .venv/bin/python bench/jobs_throughput.py [--jobs 2000] [--latency-samples 200]

(a) bare RQ: N plain no-op jobs through RQ's SimpleWorker (JSON serializer);
(b) Engram: N no-op tasks through `.enqueue()` (ledger row + outbox dispatch) and EngramWorker
    (atomic claim, attempt row, one progress write, outcome);
(c) enqueue-to-start latency with an idle `manage.py rqworker` subprocess;
(d) "lean": (a)'s plain jobs on EngramWorker, whose RQ part makes fewer Redis round trips than
    SimpleWorker's (Engram's tasks run on this class);
(e) the floor under any durable ledger: (d) with a job that makes one trivial autocommitted
    UPDATE (what one fsynced Postgres write per job costs on this machine, next to nothing).
ratio = Engram / (a), bare RQ as RQ ships it. ledger_ratio = Engram / (d): what the ledger,
outbox and progress cost on top of the RQ part Engram's worker actually runs; floor_ratio =
(e) / (d) is its ceiling for any design that writes to Postgres once per job.
The workers run in this process, one after the other, on a fresh durable (fsync on) cluster.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

from cluster import ROOT, start_cluster


def start_services():
    return start_cluster("b")[0]


def quiet_worker(cls, queues, redis):
    import logging

    worker = cls(queues, connection=redis)
    worker.log.setLevel(logging.WARNING)
    return worker


def bench_bare(n, worker_class=None):
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from jobs.queues import get_redis

    worker_class = worker_class or SimpleWorker
    redis = get_redis()
    queue = Queue("bench.bare", connection=redis, serializer=JSONSerializer)
    started = time.perf_counter()
    for _ in range(n):
        queue.enqueue_call("jobs.samples.plain_noop", result_ttl=600)
    enqueue_s = time.perf_counter() - started
    worker = quiet_worker(worker_class, [queue], redis)
    worker.serializer = JSONSerializer
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    run_s = time.perf_counter() - started
    return n / enqueue_s, n / run_s


def bench_floor(n):
    from django.db import connection
    from rq import Queue
    from rq.serializers import JSONSerializer

    from jobs.queues import get_redis
    from jobs.worker import EngramWorker

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_touch (id int PRIMARY KEY, n bigint)")
        cursor.execute("INSERT INTO bench_touch VALUES (1, 0) ON CONFLICT DO NOTHING")
    redis = get_redis()
    queue = Queue("bench.floor", connection=redis, serializer=JSONSerializer)
    for _ in range(n):
        queue.enqueue_call("floor_jobs.touch", result_ttl=600)
    worker = quiet_worker(EngramWorker, [queue], redis)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    return n / (time.perf_counter() - started)


def bench_engram(n, batch=100):
    from django.db import transaction

    from jobs.models import JobRun
    from jobs.queues import get_redis, get_rq_queue, worker_queue_names
    from jobs.samples import noop_with_progress
    from jobs.worker import EngramWorker

    third = n // 3
    started = time.perf_counter()
    for _ in range(third):  # each enqueue its own transaction (autocommit)
        noop_with_progress.enqueue()
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(third, 2 * third, batch):  # `batch` enqueues per transaction
        with transaction.atomic():
            for _ in range(min(batch, 2 * third - start)):
                noop_with_progress.enqueue()
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(2 * third, n, batch):  # a bulk import: enqueue_many, `batch` runs per call
        noop_with_progress.enqueue_many([()] * min(batch, n - start))
    many_s = time.perf_counter() - started
    worker = quiet_worker(EngramWorker, [get_rq_queue(q) for q in worker_queue_names(["default"])], get_redis())
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    run_s = time.perf_counter() - started
    done = JobRun.objects.succeeded().count()
    assert done == n, f"only {done} of {n} runs succeeded"
    return third / single_s, third / batched_s, (n - 2 * third) / many_s, n / run_s


def bench_latency(samples):
    from django.db import close_old_connections

    from jobs.models import JobRun
    from jobs.queues import worker_queue_names
    from jobs.samples import noop

    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", *worker_queue_names(["default"])], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        latencies = []
        for i in range(samples + 5):
            run_id = noop.enqueue().id
            deadline = time.monotonic() + 30
            while True:
                close_old_connections()
                run = JobRun.objects.only("status", "enqueued_at", "started_at").get(pk=run_id)
                if run.status == "succeeded":
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("latency worker did not run the job within 30s")
                time.sleep(0.002)
            if i >= 5:  # the first runs warm up imports and connections
                latencies.append((run.started_at - run.enqueued_at).total_seconds() * 1000)
            time.sleep(0.01)  # let the worker go idle again
        return latencies
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds of bare / engram / floor / lean; medians are reported")
    options = parser.parse_args()

    services = start_services()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from jobs.models import JobRun

        rounds = []
        # Interleaved rounds, medians reported: on a shared 2-core machine one pass of each can
        # land in a busy or a quiet second and move the ratio by 0.1 either way.
        from jobs.worker import EngramWorker

        for _ in range(options.rounds):
            JobRun.objects.all().delete()
            bare = bench_bare(options.jobs)
            engram = bench_engram(options.jobs)
            floor = bench_floor(options.jobs)
            lean = bench_bare(options.jobs, EngramWorker)[1]
            rounds.append((*bare, *engram, floor, lean))
        (bare_enqueue, bare_rate, engram_enqueue, engram_batched, engram_many, engram_rate,
         floor_rate, lean_rate) = (statistics.median(column) for column in zip(*rounds))
        ratio = statistics.median(r[5] / r[1] for r in rounds)
        floor_ratio = statistics.median(r[6] / r[7] for r in rounds)
        ledger_ratio = statistics.median(r[5] / r[7] for r in rounds)
        latencies = bench_latency(options.latency_samples)
        from django.db import connections

        connections.close_all()
    finally:
        services.destroy()

    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"medians of {options.rounds} interleaved rounds of {options.jobs} jobs each")
    print(f"bare RQ   : enqueue {bare_enqueue:8.0f}/s   run {bare_rate:7.1f} jobs/s")
    print(f"engram    : enqueue {engram_enqueue:8.0f}/s   run {engram_rate:7.1f} jobs/s   "
          f"(100 enqueues per transaction: {engram_batched:.0f}/s; enqueue_many of 100: {engram_many:.0f}/s)")
    print(f"lean      : the same plain jobs on EngramWorker (RQ's heartbeats and suspend check at most "
          f"once a second): run {lean_rate:7.1f} jobs/s")
    print(f"floor     : lean + one durable UPDATE per job: run {floor_rate:7.1f} jobs/s "
          f"(floor_ratio {floor_ratio:.2f} of lean: the ceiling for any per-job ledger write)")
    per_job, lean_per_job = 1000 / bare_rate, 1000 / lean_rate
    print(f"per job   : bare RQ {per_job:.2f} ms; EngramWorker's RQ part {lean_per_job:.2f} ms, to which one "
          f"durable UPDATE adds {1000 / floor_rate - lean_per_job:.2f} ms and Engram's ledger, outbox and "
          f"progress add {1000 / engram_rate - lean_per_job:.2f} ms (ledger_ratio {ledger_ratio:.2f})")
    print(f"latency   : enqueue-to-start p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(latencies)} samples, idle worker)")
    print(f"goals     : ratio >= 0.8 {'ok' if ratio >= 0.8 else 'MISSED'}, "
          f"enqueue >= 2000/s: one per transaction {'ok' if engram_enqueue >= 2000 else 'MISSED'}, "
          f"100 per transaction {'ok' if engram_batched >= 2000 else 'MISSED'}, "
          f"enqueue_many {'ok' if engram_many >= 2000 else 'MISSED'}; "
          f"p50 < 5 ms {'ok' if p50 < 5 else 'MISSED'}")
    print(f"jobs_throughput: engram={engram_rate:.1f}/s bare={bare_rate:.1f}/s ratio={ratio:.2f} "
          f"enqueue={engram_enqueue:.0f}/s enqueue_batched={engram_batched:.0f}/s enqueue_many={engram_many:.0f}/s "
          f"floor_ratio={floor_ratio:.2f} ledger_ratio={ledger_ratio:.2f} start_p50={p50:.2f}ms start_p99={p99:.2f}ms")


if __name__ == "__main__":
    main()
