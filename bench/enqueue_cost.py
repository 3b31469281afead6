"""What one enqueue costs the enqueueing process, in measures a loaded machine does not bend much.

    .venv/bin/python bench/enqueue_cost.py [--singles 2000] [--bulk 10000]

On a fresh embedded PostgreSQL + Redis: `--singles` single `.enqueue()` calls outside a
transaction, then one `enqueue_many()` of `--bulk` runs. For each: Python function calls per
run (cProfile's count: exact, independent of load), CPU microseconds per run of this thread
(without the profiler) and runs per second of wall time (load-dependent, for reference).
Last line:

    enqueue_cost: single_calls=… single_cpu_us=… single_per_s=… bulk_calls=… bulk_cpu_us=… bulk_per_s=…
"""

import argparse
import cProfile
import pstats
import time

from cluster import start_cluster


def measure(enqueue, runs):
    """(function calls per run, CPU us per run, runs per wall second) of enqueue()."""
    cpu, wall = time.thread_time(), time.perf_counter()
    enqueue()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    profile = cProfile.Profile()
    profile.runcall(enqueue)
    calls = pstats.Stats(profile).total_calls
    return calls / runs, 1e6 * cpu / runs, runs / wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--bulk", type=int, default=10000)
    options = parser.parse_args()

    services, _ = start_cluster("enqueue")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from jobs.samples import noop

        for _ in range(100):  # warm: connections, the task's prototype, the RQ job prototype
            noop.enqueue()
        noop.enqueue_many([()] * 500)

        def singles():
            for _ in range(options.singles):
                noop.enqueue()

        single = measure(singles, options.singles)
        bulk = measure(lambda: noop.enqueue_many([()] * options.bulk), options.bulk)
        print(f"enqueue_cost: single_calls={single[0]:.0f} single_cpu_us={single[1]:.0f} "
              f"single_per_s={single[2]:.0f} bulk_calls={bulk[0]:.0f} bulk_cpu_us={bulk[1]:.1f} "
              f"bulk_per_s={bulk[2]:.0f}")
    finally:
        from django.db import connections

        connections.close_all()
        services.destroy()


if __name__ == "__main__":
    main()
