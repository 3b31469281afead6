"""What one enqueue costs, in measures a loaded machine does not bend much.

    .venv/bin/python bench/enqueue_cost.py [--singles 2000] [--bulk 10000] [--history 100000]

On a fresh embedded PostgreSQL + Redis (fsync on) holding `--history` finished runs: `--singles`
single `.enqueue()` calls outside a transaction, then one `enqueue_many()` of `--bulk` runs.
Each part starts right after a CHECKPOINT, as a long-running ledger would sit between two. For
each, per run: Python function calls (cProfile's count: exact), CPU microseconds of this
thread, of its PostgreSQL backend and of the Redis server (without the profiler), WAL bytes
written, and runs per second of wall time (load-dependent, for reference). Last line:

    enqueue_cost: single_calls=… single_cpu_us=… single_pg_cpu_us=… single_redis_cpu_us=… single_wal_bytes=…
        single_per_s=… bulk_calls=… bulk_cpu_us=… bulk_pg_cpu_us=… bulk_redis_cpu_us=… bulk_wal_bytes=… bulk_per_s=…
"""

import argparse
import cProfile
import os
import pstats
import time

from cluster import start_cluster

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    """User+system CPU seconds of another process (its /proc stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sql(statement, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def measure(enqueue, runs, redis_pid):
    """{calls, cpu_us, pg_cpu_us, redis_cpu_us, wal_bytes, per_s}, each per run, of enqueue()."""
    sql("CHECKPOINT")
    backend = sql("SELECT pg_backend_pid()")[0]
    lsn = sql("SELECT pg_current_wal_insert_lsn()")[0]
    pg, redis = process_cpu(backend), process_cpu(redis_pid)
    cpu, wall = time.thread_time(), time.perf_counter()
    enqueue()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    pg, redis = process_cpu(backend) - pg, process_cpu(redis_pid) - redis
    wal = float(sql("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", [lsn])[0])
    profile = cProfile.Profile()
    profile.runcall(enqueue)
    calls = pstats.Stats(profile).total_calls
    return {"calls": calls / runs, "cpu_us": 1e6 * cpu / runs, "pg_cpu_us": 1e6 * pg / runs,
            "redis_cpu_us": 1e6 * redis / runs, "wal_bytes": wal / runs, "per_s": runs / wall}


def fill_history(runs):
    """`runs` finished runs, as a ledger in use holds: the indexes every INSERT updates are that big.

    Written through enqueue_many, so their ids are of the kind the code under test makes.
    """
    from jobs.queues import get_redis
    from jobs.samples import noop

    for start in range(0, runs, 10000):
        noop.enqueue_many([()] * min(10000, runs - start))
    sql("UPDATE jobs_jobrun SET status = 'succeeded'")
    sql("VACUUM ANALYZE jobs_jobrun")
    get_redis().flushdb()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--bulk", type=int, default=10000)
    parser.add_argument("--history", type=int, default=100000)
    options = parser.parse_args()

    services, _ = start_cluster("enqueue")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from jobs.samples import noop

        fill_history(options.history)
        for _ in range(100):  # warm: connections, the task's prototype, the RQ job prototype
            noop.enqueue()
        noop.enqueue_many([()] * 500)

        def singles():
            for _ in range(options.singles):
                noop.enqueue()

        redis_pid = services._redis_pid()
        parts = {"single": measure(singles, options.singles, redis_pid),
                 "bulk": measure(lambda: noop.enqueue_many([()] * options.bulk), options.bulk, redis_pid)}
        print("enqueue_cost: " + " ".join(
            f"{part}_{name}={value:.{1 if name == 'cpu_us' and part == 'bulk' else 0}f}"
            for part, measures in parts.items() for name, value in measures.items()))
    finally:
        from django.db import connections

        connections.close_all()
        services.destroy()


if __name__ == "__main__":
    main()
