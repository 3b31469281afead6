"""Worker CPU per no-op job, measured in this process (load-independent, unlike a drain rate).

    .venv/bin/python bench/worker_cpu.py [--jobs 2000] [--profile 25]

Enqueues N no-op runs with `enqueue_many`, then drains them with an in-process EngramWorker
(blocking pops on the three `default` lanes, as `manage.py rqworker` does, stopping after N
jobs) and reports per job: the worker's CPU time (all its threads) and wall time, the Redis
round trips and SQL statements it sent, and the CPU its Postgres backend and Redis spent (on
2 cores they compete with the worker for the drain). `--profile K` also prints cProfile's K
costliest functions of the drain by own CPU time in the worker's thread.
"""

import argparse
import cProfile
import pstats
import os
import time

from cluster import start_cluster

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """A process's user + system CPU seconds so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--profile", type=int, default=0, metavar="K")
    options = parser.parse_args()
    services = start_cluster("w")[0]
    try:
        import django

        django.setup()
        import redis.connection
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0)
        from jobs.models import JobRun
        from jobs.queues import get_redis, get_rq_queue
        from jobs.samples import noop
        from jobs.status import RunStatus
        from jobs.worker import EngramWorker

        noop.enqueue_many([()] * options.jobs)
        trips = [0]
        real_send = redis.connection.AbstractConnection.send_packed_command

        def counting(conn, command, check_health=True):
            trips[0] += 1
            return real_send(conn, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counting
        statements = [0]

        def count_statement(execute, sql, params, many, context):
            statements[0] += 1
            return execute(sql, params, many, context)

        lanes = ("default.high", "default.normal", "default.low")
        worker = EngramWorker([get_rq_queue(name) for name in lanes], connection=get_redis())
        profiler = cProfile.Profile(time.thread_time) if options.profile else None  # CPU, not waits
        with connection.cursor() as cursor:  # the worker's queries run on this thread's connection
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        redis_pid = services._redis_pid()
        with connection.execute_wrapper(count_statement):
            server_cpu = cpu_seconds(backend), cpu_seconds(redis_pid)
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            worker.work(max_jobs=options.jobs, logging_level="WARNING")
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            pg_cpu, redis_cpu = cpu_seconds(backend) - server_cpu[0], cpu_seconds(redis_pid) - server_cpu[1]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            if cursor.fetchone()[0] != backend:  # the worker reconnected: the figure is partial
                pg_cpu = float("nan")
        redis.connection.AbstractConnection.send_packed_command = real_send
        done = JobRun.objects.filter(status=RunStatus.SUCCEEDED).count()
        if done != options.jobs:
            raise SystemExit(f"only {done} of {options.jobs} runs succeeded")
        connections.close_all()
    finally:
        services.destroy()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(options.profile)
    n = options.jobs
    print(f"worker_cpu: jobs={n} cpu_ms_per_job={1000 * cpu / n:.3f} wall_ms_per_job={1000 * wall / n:.3f} "
          f"redis_trips_per_job={trips[0] / n:.2f} sql_per_job={statements[0] / n:.2f} "
          f"pg_backend_cpu_ms_per_job={1000 * pg_cpu / n:.3f} redis_cpu_ms_per_job={1000 * redis_cpu / n:.3f}")


if __name__ == "__main__":
    main()
