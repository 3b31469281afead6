"""Engram against the job systems a user would pick instead, on the same PostgreSQL and Redis.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/peers.py [--jobs 2000] [--rounds 5] [--latency-samples 50]

Systems: Engram (EngramWorker, ledger), stock RQ (SimpleWorker, JSON serializer), Procrastinate,
django-tasks' database backend (django-tasks-db) and Celery on Redis (solo pool, no result
backend). Each round, for each system in turn (the order rotates): single enqueues of a fifth
of the jobs, the rest through the system's own bulk API (none for django-tasks-db: single),
then one worker process with one slot drains them (counted until the system's own records show
every job finished; Celery keeps none, so its task counts itself in Redis), then
enqueue-to-start latency with that worker idle, one job at a time. Worker CPU per job is the
worker process's user+system time over the drain. Medians over the rounds; last line:

    peers: engram=… rq=… procrastinate=… django_tasks=… celery=… best_durable=… ratio_vs_best_durable=…

(drain jobs/s; "durable" = keeps a record of every job in PostgreSQL: Procrastinate and
django-tasks-db; ratio = Engram's drain / the best durable peer's).

Start latency is each system's own pair of timestamps, so each includes its own enqueue: Engram
`started_at` (the worker's clock before its claim) minus `enqueued_at` (before the INSERT and
its durable commit), django-tasks-db the same two fields, Procrastinate its `started` minus its
`deferred` event (both `now()` of their transactions: the defer's commit is inside), RQ its
job's `started_at` minus `enqueued_at` (a Redis write, no fsync), Celery the task body's clock
minus the caller's. With the default 50 samples per round, p99 is the slowest of the 50.
bench/start_latency.py cuts Engram's into steps over thousands of jobs.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

from cluster import ROOT, start_cluster, wait_until

BENCH = ROOT / "bench"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class System:
    name = ""
    durable = False
    has_bulk = True

    def __init__(self, env):
        self.env = env
        self.worker = None

    def start_worker(self):
        log = open(ROOT / "var" / f"peers-{self.name}.log", "a")
        self.worker = subprocess.Popen(self.worker_command(), env=self.env, cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)

    def stop_worker(self):
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
        self.worker = None

    def latency(self):
        """Enqueue one job to the idle worker, wait for it; return its enqueue-to-start seconds."""
        raise NotImplementedError


class Engram(System):
    name, durable = "engram", True

    def reset(self):
        from jobs.models import JobAttempt, JobRun

        JobAttempt.objects.all().delete()
        JobRun.objects.all().delete()
        from jobs.queues import get_redis

        get_redis().flushdb()

    def enqueue_one(self):
        from jobs.samples import noop

        noop.enqueue()

    def enqueue_bulk(self, n):
        from jobs.samples import noop

        noop.enqueue_many([()] * n)

    def done(self):
        from jobs.models import JobRun

        return JobRun.objects.succeeded().count()

    def worker_command(self):
        return [sys.executable, "manage.py", "rqworker", "--with-scheduler", "default.high", "default.normal",
                "default.low"]

    def latency(self):
        from jobs.models import JobRun
        from jobs.samples import noop

        run_id = noop.enqueue().id
        wait_until(lambda: JobRun.objects.filter(pk=run_id, status="succeeded").exists())
        run = JobRun.objects.get(pk=run_id)
        return (run.started_at - run.enqueued_at).total_seconds()


class StockRQ(System):
    name = "rq"

    def __init__(self, env):
        super().__init__(env)
        from rq import Queue
        from rq.serializers import JSONSerializer

        from jobs.queues import get_redis

        self.queue = Queue("bench.rq", connection=get_redis(), serializer=JSONSerializer)

    def reset(self):
        self.queue.connection.flushdb()

    def enqueue_one(self):
        self.queue.enqueue_call("peer_tasks.plain_noop", result_ttl=600)

    def enqueue_bulk(self, n):
        from rq import Queue

        self.queue.enqueue_many([Queue.prepare_data("peer_tasks.plain_noop", result_ttl=600) for _ in range(n)])

    def done(self):
        return self.queue.finished_job_registry.count

    def worker_command(self):
        return [sys.executable, "-m", "rq.cli", "worker", "-w", "rq.worker.SimpleWorker", "--serializer",
                "rq.serializers.JSONSerializer", "-u", self.env["REDIS_URL"], "-q", "bench.rq"]

    def latency(self):
        from rq.job import Job

        job = self.queue.enqueue_call("peer_tasks.plain_noop", result_ttl=600)
        wait_until(lambda: job.get_status(refresh=True) == "finished")
        job = Job.fetch(job.id, connection=self.queue.connection, serializer=self.queue.serializer)
        return (job.started_at - job.enqueued_at).total_seconds()


class Procrastinate(System):
    name, durable = "procrastinate", True

    def __init__(self, env):
        super().__init__(env)
        import peer_tasks

        self.tasks = peer_tasks
        self.app = peer_tasks.procrastinate_app.open()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('procrastinate_jobs')")
            if cursor.fetchone()[0] is None:
                self.app.schema_manager.apply_schema()

    def _sql(self, sql):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone() if cursor.description else None

    def reset(self):
        self._sql("TRUNCATE procrastinate_jobs CASCADE")

    def enqueue_one(self):
        self.tasks.procrastinate_noop.defer()

    def enqueue_bulk(self, n):
        self.tasks.procrastinate_noop.batch_defer(*[{} for _ in range(n)])

    def done(self):
        return self._sql("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")[0]

    def worker_command(self):
        return [sys.executable, "-c", "import peer_tasks; peer_tasks.run_procrastinate_worker()"]

    def latency(self):
        job_id = self.tasks.procrastinate_noop.defer()
        wait_until(lambda: self._sql(f"SELECT status FROM procrastinate_jobs WHERE id = {job_id}")[0] == "succeeded")
        return self._sql(
            "SELECT extract(epoch FROM (SELECT at FROM procrastinate_events WHERE job_id = %d AND type = 'started') - "
            "(SELECT at FROM procrastinate_events WHERE job_id = %d AND type = 'deferred'))" % (job_id, job_id))[0]


class DjangoTasksDB(System):
    name, durable, has_bulk = "django_tasks", True, False

    def reset(self):
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.all().delete()

    def enqueue_one(self):
        import peer_tasks

        peer_tasks.db_noop.enqueue()

    def enqueue_bulk(self, n):
        for _ in range(n):  # no bulk API
            self.enqueue_one()

    def done(self):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(status="SUCCESSFUL").count()

    def worker_command(self):
        return [sys.executable, "manage.py", "db_worker", "--backend", "db", "--queue-name", "default",
                "--interval", "0.001", "--no-startup-delay"]

    def latency(self):
        import peer_tasks
        from django_tasks_db.models import DBTaskResult

        result_id = peer_tasks.db_noop.enqueue().id
        wait_until(lambda: DBTaskResult.objects.filter(pk=result_id, status="SUCCESSFUL").exists())
        row = DBTaskResult.objects.get(pk=result_id)
        return (row.started_at - row.enqueued_at).total_seconds()


class CeleryRedis(System):
    name = "celery"

    def __init__(self, env):
        super().__init__(env)
        import peer_tasks

        self.tasks = peer_tasks
        self.redis = peer_tasks._celery_redis

    def reset(self):
        self.redis.flushdb()

    def enqueue_one(self):
        self.tasks.celery_noop.delay()

    def enqueue_bulk(self, n):
        # Celery has no bulk send; a group is its batch API (one message per task, one connection).
        from celery import group

        group(self.tasks.celery_noop.s() for _ in range(n)).apply_async()

    def done(self):
        return int(self.redis.get("peers:celery:done") or 0)

    def worker_command(self):
        return [sys.executable, "-m", "celery", "-A", "peer_tasks:celery_app", "worker", "--pool=solo",
                "--concurrency=1", "-Q", "peers_celery", "--without-heartbeat", "--without-gossip",
                "--without-mingle", "-l", "WARNING"]

    def latency(self):
        before = self.redis.llen("peers:celery:latency")
        self.tasks.celery_noop.delay(time.time())
        wait_until(lambda: self.redis.llen("peers:celery:latency") > before)
        return float(self.redis.lindex("peers:celery:latency", -1))


def one_round(system, jobs, latency_samples):
    system.reset()
    singles = max(1, jobs // 5)
    started = time.perf_counter()
    for _ in range(singles):
        system.enqueue_one()
    single_rate = singles / (time.perf_counter() - started)
    started = time.perf_counter()
    system.enqueue_bulk(jobs - singles)
    bulk_rate = (jobs - singles) / (time.perf_counter() - started)
    system.start_worker()
    try:
        # The drain is timed from the first finished job: start-up costs are not per job.
        wait_until(lambda: system.done() >= 1, timeout=120)
        first, cpu_first, t_first = system.done(), cpu_seconds(system.worker.pid), time.perf_counter()
        wait_until(lambda: system.done() >= jobs)
        elapsed, cpu = time.perf_counter() - t_first, cpu_seconds(system.worker.pid) - cpu_first
        drained = jobs - first
        time.sleep(0.5)  # idle
        latencies = sorted(system.latency() for _ in range(latency_samples))
    finally:
        system.stop_worker()
    return {
        "drain": drained / elapsed, "single": single_rate, "bulk": bulk_rate if system.has_bulk else None,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "cpu_ms": 1000 * cpu / drained,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-samples", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated system names")
    options = parser.parse_args()

    sys.path.insert(0, str(BENCH))
    services, var_dir = start_cluster("p")
    os.environ["DJANGO_SETTINGS_MODULE"] = "peers_settings"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCH), str(ROOT)]), PYTHONUNBUFFERED="1")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        systems = [cls(env) for cls in (Engram, StockRQ, Procrastinate, DjangoTasksDB, CeleryRedis)
                   if not options.only or cls.name in options.only.split(",")]
        results = {system.name: [] for system in systems}
        for number in range(options.rounds):
            order = systems[number % len(systems):] + systems[:number % len(systems)]
            for system in order:
                results[system.name].append(one_round(system, options.jobs, options.latency_samples))
                print(f"round {number + 1} {system.name}: {results[system.name][-1]}", flush=True)
        medians = {}
        keys = ["drain", "single", "bulk", "p50_ms", "p99_ms", "cpu_ms"]
        print(f"\n{'system':<14}" + "".join(f"{k:>10}" for k in keys))
        for name, rounds in results.items():
            medians[name] = {k: (statistics.median(r[k] for r in rounds) if rounds[0][k] is not None else None)
                             for k in keys}
            print(f"{name:<14}" + "".join(f"{v:>10.1f}" if v is not None else f"{'-':>10}"
                                          for v in medians[name].values()))
        durable = {s.name: medians[s.name]["drain"] for s in systems if s.durable and s.name != "engram"}
        best = max(durable, key=durable.get) if durable else None
        drains = " ".join(f"{name}={m['drain']:.0f}" for name, m in medians.items())
        ratio = (medians["engram"]["drain"] / durable[best]) if best and "engram" in medians else float("nan")
        print(f"peers: {drains} best_durable={best} ratio_vs_best_durable={ratio:.2f}")
    finally:
        from django.db import connections

        connections.close_all()
        services.destroy()


if __name__ == "__main__":
    main()
