"""Worker CPU per no-op job, measured in this process (load-independent, unlike a drain rate).

    .venv/bin/python bench/worker_cpu.py [--jobs 2000] [--profile 25]

Enqueues N no-op runs with `enqueue_many`, then drains them with an in-process EngramWorker
(blocking pops on the three `default` lanes, as `manage.py rqworker` does, stopping after N jobs)
and reports the worker's own CPU time (process time) and wall time per job, and
the Redis round trips and SQL statements it sent per job. `--profile K` also prints cProfile's
K costliest functions (by own time) of the drain.
"""

import argparse
import cProfile
import pstats
import time

from cluster import start_cluster


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
        profiler = cProfile.Profile() if options.profile else None
        with connection.execute_wrapper(count_statement):
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            worker.work(max_jobs=options.jobs, logging_level="WARNING")
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
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
          f"redis_trips_per_job={trips[0] / n:.2f} sql_per_job={statements[0] / n:.2f}")


if __name__ == "__main__":
    main()
