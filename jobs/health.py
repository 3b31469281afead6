"""Readiness checks: the database, Redis, migrations, a worker per queue and the scheduler's leader.

Each check is a plain function returning (ok, detail); `run_checks()` times them. They are cheap
enough for a load balancer to call every second: one round trip each, and the migration check
remembers a success for the life of the process (new migrations come with a new deploy, which
restarts it).
"""

import time
from collections import namedtuple

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from redis.exceptions import RedisError

from .conf import jobs_settings
from .models import SchedulerLease, Worker
from .queues import get_redis
from .scheduler import Leadership

CheckResult = namedtuple("CheckResult", "name ok detail latency_ms")

_migrations_applied = False


def check_database():
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, "ok"


def check_redis():
    get_redis().ping()
    return True, "ok"


def check_migrations():
    """Every migration on disk is applied (a success is remembered: see the module docstring)."""
    global _migrations_applied
    if _migrations_applied:
        return True, "ok"
    # Imported here: the loader pulls in every app's migration modules, needed only on a miss.
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return False, f"{len(plan)} unapplied: {', '.join(f'{m.app_label}.{m.name}' for m, _ in plan[:3])}"
    _migrations_applied = True
    return True, "ok"


def alive_workers_by_queue():
    """{queue: number of live workers listening to one of its lanes} for every configured queue."""
    counts = dict.fromkeys(jobs_settings.QUEUES, 0)
    for lanes in Worker.objects.alive().values_list("queues", flat=True):
        for queue in {lane.rsplit(".", 1)[0] for lane in lanes}:
            if queue in counts:
                counts[queue] += 1
    return counts


def check_workers():
    missing = sorted(queue for queue, count in alive_workers_by_queue().items() if count == 0)
    if missing:
        return False, f"no live worker for: {', '.join(missing)}"
    return True, "ok"


def scheduler_leader():
    """(leader's name, seconds since it last renewed its lease) or None when no scheduler leads.

    The leader renews its lease every tick, so the renewal's age is the age of its last tick.
    """
    return SchedulerLease.current(Leadership.LEASE)


def check_scheduler():
    leader = scheduler_leader()
    if leader is None:
        return False, "no scheduler holds the leader lease"
    return True, leader[0]


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "migrations": check_migrations,
    "workers": check_workers,
    "scheduler": check_scheduler,
}
# Without the database the checks that read it would only repeat its error.
NEEDS_DATABASE = {"migrations", "workers", "scheduler"}


def run_checks(names=None):
    """Run the named checks (all by default) and return their CheckResults, in order."""
    results = []
    database_ok = True
    for name in names or CHECKS:
        if name in NEEDS_DATABASE and not database_ok:
            results.append(CheckResult(name, False, "skipped: database unavailable", 0.0))
            continue
        started = time.perf_counter()
        try:
            ok, detail = CHECKS[name]()
        except (DatabaseError, RedisError, OSError) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}".strip()[:300]
            if name == "database":
                # A broken connection stays broken until closed; the next check opens a fresh one.
                connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
        if name == "database":
            database_ok = ok
        results.append(CheckResult(name, ok, detail, round((time.perf_counter() - started) * 1000, 3)))
    return results


def as_json(results):
    """The body of /readyz and `jobs health --json`."""
    return {
        "status": "ok" if all(r.ok for r in results) else "fail",
        "checks": {r.name: {"status": "ok" if r.ok else "fail", "detail": r.detail, "latency_ms": r.latency_ms}
                   for r in results},
    }
