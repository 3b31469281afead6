"""The job bench/jobs_throughput.py's floor measurement runs on bare RQ: one durable UPDATE."""

from django.db import connection


def touch():
    """Make one trivial autocommitted write, as a ledger would per job at the very least."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_touch SET n = n + 1 WHERE id = 1")
