"""The runs changelist at 1,000 and at 1,000,000 rows: milliseconds and queries per page.

    .venv/bin/python bench/admin_scale.py [--rows 1000000] [--repeat 5]

Rows are generated in SQL (generate_series) on a fresh embedded cluster, then ANALYZEd; every
page is fetched through Django's test client as a superuser, best of --repeat after a warm-up.
Goal: at 1M rows every page within 1.5x of its 1k time and under 300 ms.
"""

import argparse
import time

from cluster import start_cluster

INSERT_SQL = """
INSERT INTO jobs_jobrun (id, task_path, args, kwargs, queue, lane, priority, status, attempt, max_attempts,
    retry_policy, result_ttl, dispatches, enqueued_at, started_at, finished_at, status_changed_at,
    worker_name, worker_host, worker_pid, progress_done, progress_total, progress_message, result,
    error_type, error_message, error_traceback, trigger)
SELECT gen_random_uuid(),
    (ARRAY['jobs.samples.noop','jobs.samples.echo','jobs.samples.returns_42','jobs.samples.sleeps',
           'jobs.samples.always_fails','jobs.samples.slow_with_progress'])[1 + (i %% 6)],
    jsonb_build_array(i), '{}'::jsonb,
    (ARRAY['default','topics','embeddings','analytics','graphs','memory','maintenance'])[1 + (i %% 7)],
    (ARRAY['high','normal','low'])[1 + (i %% 3)], 0,
    -- Every filtered page is full at 1k rows too, so the two sizes compare like with like.
    CASE WHEN i %% 20 = 0 THEN 'dead' WHEN i %% 97 = 0 THEN 'queued' WHEN i %% 89 = 0 THEN 'running'
         WHEN i %% 31 = 0 THEN 'cancelled' ELSE 'succeeded' END,
    1, 1, '{}'::jsonb, 0, 1,
    now() - (i * interval '7 seconds'), now() - (i * interval '7 seconds') + interval '40 ms',
    now() - (i * interval '7 seconds') + interval '240 ms', now() - (i * interval '7 seconds'),
    'bench-worker', 'bench-host', 1, 10, 10, '', '1'::jsonb, '', '', '',
    (ARRAY['api','user','schedule','parent'])[1 + (i %% 4)]
FROM generate_series(%s, %s) AS i
"""


def start_services():
    return start_cluster("a")[0]


def fill(start, stop):
    from django.db import connection

    with connection.cursor() as cursor:
        for low in range(start, stop + 1, 200_000):
            cursor.execute(INSERT_SQL, [low, min(stop, low + 199_999)])
        cursor.execute("ANALYZE jobs_jobrun")


def measure(client, pages, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    for name, url in pages:
        client.get(url)  # warm-up
        best, queries = None, None
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            best = elapsed if best is None else min(best, elapsed)
            queries = len(captured.captured_queries)
        results[name] = (best, queries)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    services = start_services()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        settings.ALLOWED_HOSTS = ["testserver"]
        call_command("migrate", verbosity=0)
        user = User.objects.create_superuser("bench", "bench@example.com", "pw")
        client = Client()
        client.force_login(user)
        base = reverse("admin:jobs_jobrun_changelist")

        def pages():
            from jobs.models import JobRun

            sample = JobRun.objects.order_by("-enqueued_at").values_list("pk", flat=True)[500]
            return [
                ("default", base),
                ("status=dead", base + "?status=dead"),
                ("status=succeeded", base + "?status=succeeded"),
                ("task", base + "?task=jobs.samples.echo"),
                ("queue", base + "?queue=graphs"),
                ("trigger", base + "?trigger=schedule"),
                ("date", base + "?enqueued_at__gte=2000-01-01+00:00:00%2B00:00"),
                ("page 10", base + "?p=10"),
                ("change view", reverse("admin:jobs_jobrun_change", args=[sample])),
            ]

        started = time.perf_counter()
        fill(1, options.small)
        small = measure(client, pages(), options.repeat)
        fill(options.small + 1, options.rows)
        fill_s = time.perf_counter() - started
        big = measure(client, pages(), options.repeat)
        from django.db import connections

        connections.close_all()
    finally:
        services.destroy()

    print(f"filled {options.rows:,} runs in {fill_s:.0f} s")
    print(f"{'page':18} {options.small:>9,} rows      {options.rows:>11,} rows   ratio")
    worst_ratio, worst_ms = 0.0, 0.0
    for name in small:
        (ms_small, q_small), (ms_big, q_big) = small[name], big[name]
        ratio = ms_big / ms_small
        worst_ratio, worst_ms = max(worst_ratio, ratio), max(worst_ms, ms_big)
        print(f"{name:18} {ms_small:8.1f} ms {q_small:3d} q   {ms_big:8.1f} ms {q_big:3d} q   {ratio:5.2f}")
    ok = worst_ratio <= 1.5 and worst_ms < 300
    print(f"admin_scale: rows={options.rows} worst_ms={worst_ms:.1f} worst_ratio={worst_ratio:.2f} "
          f"goal(<=1.5x and <300ms)={'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
