"""Chaos: mixed runs across real rqworkers while workers, Redis, Postgres and the scheduler fail.

    .venv/bin/python bench/chaos.py [--runs 10000] [--workers 3] [--kill-every 3] [--spread SECONDS]

It starts a throwaway PostgreSQL + Redis (under var/), 3 `rqworker --with-scheduler` processes
and 2 `jobs scheduler` processes (a leader and a standby, with a schedule firing every second),
enqueues the runs (no-op, short and long sleeps, fail-then-succeed, progress, side effect; all
at-least-once) over `--spread` seconds and meanwhile: SIGKILLs a worker every `--kill-every`
seconds (one inside a long run, when one shows up within seconds) and starts a new one,
restarts Redis once, FLUSHALLs it once, restarts Postgres once and SIGSTOPs the scheduler
leader for longer than its lease. Then it waits until every run is
finished (or --quiet-timeout passes) and prints what went wrong. Last line:

    chaos: runs=10000 lost=0 stuck=0 wrongly_dead=0 duplicate_effects=N double_fires=0 detect_p95=Ns

tests/e2e/test_chaos.py runs a small copy (`run_chaos`) in CI and asserts the zeros.
"""

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONG_SLEEP = 0.5  # seconds: the runs a kill aims at
KILL_WITHIN = 0.25  # seconds after such a run started, so that the kill lands inside it
MIX = [  # (task name in jobs.samples, args, share)
    ("chaos_noop", [], 0.3),
    ("chaos_sleep", [0.05], 0.15),
    ("chaos_sleep", [LONG_SLEEP], 0.1),  # long enough that a kill finds a worker mid-run
    ("chaos_flaky", [], 0.15),
    ("chaos_progress", [], 0.15),
    ("chaos_effect", [], 0.15),
]
SCHEDULE_NAME = "chaos: every second"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Chaos:
    """One chaos run against `services` (EmbeddedServices) from a process with Django set up."""

    def __init__(self, services, env, *, runs, workers=3, kill_every=3.0, spread=None, quiet_timeout=180.0,
                 log_dir=None, seed=None):
        self.services, self.env = services, dict(env)
        self.runs, self.workers, self.kill_every = runs, workers, kill_every
        self.spread = spread if spread is not None else max(20.0, runs / 100)
        self.quiet_timeout = quiet_timeout
        self.log_dir = Path(log_dir or ROOT / "var" / "chaos-logs")
        self.random = random.Random(seed)
        self.procs = {}  # name -> Popen
        self.kills = {}  # pid -> monotonic-free wall time of its SIGKILL
        self.aimed_kills = 0  # kills that landed inside a run (see _pick_victim)
        self.run_ids = []
        self.events = []
        self.stopping = False

    # --- processes -------------------------------------------------------------------------

    def start(self, name, *args):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{name}-{len(self.events)}.log", "w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=ROOT,
        )
        self.events.append(("start", name, self.procs[name].pid))

    def start_worker(self, name):
        from jobs.queues import worker_queue_names

        self.start(name, "rqworker", "--with-scheduler", *worker_queue_names(["default"]))

    def kill_a_worker(self):
        self.supervise()  # a worker that exited (Postgres was down) is started again first
        name, aimed = self._retry(self._pick_victim)
        proc = self.procs[name]
        try:
            # The worker alone, not its process group: its scheduler child must die with it by itself.
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # it exited by itself meanwhile: supervise() starts it again
            return
        self.aimed_kills += aimed
        self.kills[proc.pid] = time.time()
        proc.wait(10)
        self.events.append(("kill", name, proc.pid))
        self.start_worker(name)

    def _pick_victim(self, wait=5.0):
        """Return (a worker to kill, whether it is inside a run): one in the middle of a long run
        if one shows up within `wait` seconds, else any live one.

        A kill that lands between two runs leaves nothing to recover, and under load that was
        every kill often enough that a run without a single lost-worker detection happened.
        The chosen worker started a LONG_SLEEP run less than KILL_WITHIN seconds ago, so the
        SIGKILL that follows at once finds it still sleeping inside that run.
        """
        from datetime import timedelta

        from django.utils import timezone

        from jobs.models import JobRun
        from jobs.status import RunStatus

        workers = {proc.pid: name for name, proc in self.procs.items()
                   if name.startswith("worker") and proc.poll() is None}
        deadline = time.monotonic() + wait
        while workers and time.monotonic() < deadline:
            busy = list(
                JobRun.objects.filter(status=RunStatus.RUNNING, worker_pid__in=list(workers),
                                      task_path="jobs.samples.chaos_sleep", args=[LONG_SLEEP],
                                      started_at__gte=timezone.now() - timedelta(seconds=KILL_WITHIN))
                .values_list("worker_pid", flat=True)
            )
            if busy:
                return workers[self.random.choice(busy)], True
            self._enqueue_due()
            time.sleep(0.01)
        running = [n for n in self.procs if n.startswith("worker") and self.procs[n].poll() is None]
        return self.random.choice(running or [n for n in self.procs if n.startswith("worker")]), False

    def supervise(self):
        """Start again any process that exited (a worker started while Postgres was down does)."""
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None and not self.stopping:
                self.events.append(("exited", name, proc.pid))
                if name.startswith("worker"):
                    self.start_worker(name)
                else:
                    self.start(name, "jobs", "scheduler")

    def stop_all(self):
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    # --- faults ----------------------------------------------------------------------------

    def restart_redis(self):
        log("fault: Redis restart")
        self.services.stop_redis()
        time.sleep(1.0)
        self.services.start_redis()

    def flush_redis(self):
        from jobs.queues import get_redis

        log("fault: Redis FLUSHALL")
        self._retry(lambda: get_redis().flushall())

    def restart_postgres(self):
        from django.db import connections

        log("fault: Postgres restart")
        self.services.stop_postgres()
        time.sleep(1.0)
        self.services.start_postgres()
        connections.close_all()

    def freeze_leader(self):
        from django.conf import settings

        pid = self._retry(self._leader_pid)
        if pid is None:
            log("fault: no scheduler leader to freeze")
            return
        seconds = settings.JOBS_SCHEDULER_LEASE_SECONDS + 3
        log(f"fault: SIGSTOP scheduler leader {pid} for {seconds:g}s")
        os.kill(pid, signal.SIGSTOP)
        self.events.append(("sigstop", "scheduler", pid))
        try:
            self._sleep_enqueueing(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    def _leader_pid(self):
        from jobs.models import SchedulerLease

        lease = SchedulerLease.objects.filter(name="scheduler").first()
        if lease is None or not lease.holder.startswith("jobs scheduler "):
            return None
        return int(lease.holder.rsplit(":", 1)[1].split("/")[0])

    # --- the workload ----------------------------------------------------------------------

    def _retry(self, action, timeout=120.0):
        """Do `action`, waiting out database and Redis outages (the harness is a client too)."""
        from django.db import DatabaseError, connections
        from redis.exceptions import RedisError

        deadline = time.monotonic() + timeout
        while True:
            try:
                return action()
            except (DatabaseError, RedisError):
                if time.monotonic() > deadline:
                    raise
                connections.close_all()
                time.sleep(0.2)

    def setup(self):
        from django.db import connection

        from jobs.models import Schedule
        from jobs.samples import EFFECTS_TABLE

        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} (run_id uuid NOT NULL, attempt int NOT NULL, "
                           "at timestamptz NOT NULL DEFAULT clock_timestamp())")
            cursor.execute(f"TRUNCATE {EFFECTS_TABLE}")
        Schedule.objects.filter(name=SCHEDULE_NAME).delete()
        schedule = Schedule(name=SCHEDULE_NAME, task_path="jobs.samples.chaos_noop", interval_seconds=1,
                            overlap_policy="allow")
        schedule.full_clean()
        schedule.save()
        self.schedule_id = schedule.pk

    def enqueue_batch(self, count):
        from jobs import samples

        shares = [share for _, _, share in MIX]
        picks = self.random.choices(range(len(MIX)), weights=shares, k=count)
        for index in sorted(set(picks)):
            name, args, _ = MIX[index]
            n = picks.count(index)
            results = self._retry(lambda: getattr(samples, name).enqueue_many([tuple(args)] * n))
            self.run_ids.extend(result.id for result in results)

    def _sleep_enqueueing(self, seconds):
        """Keep enqueueing on schedule while a fault lasts."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._enqueue_due()
            self.supervise()
            time.sleep(0.05)

    def _enqueue_due(self):
        elapsed = time.monotonic() - self.started
        due = min(self.runs, math.ceil(self.runs * min(1.0, elapsed / self.spread)))
        if due > len(self.run_ids):
            self.enqueue_batch(min(due - len(self.run_ids), 500))

    def run(self):
        """Run the workload and its faults; return the report (a dict)."""
        self.setup()
        for number in range(1, self.workers + 1):
            self.start_worker(f"worker{number}")
        self.start("scheduler1", "jobs", "scheduler")
        self.start("scheduler2", "jobs", "scheduler")
        self.started = time.monotonic()
        # The one-off faults at fixed fractions of the enqueue period; kills all along.
        faults = sorted([
            (0.2, self.restart_redis), (0.4, self.flush_redis), (0.6, self.restart_postgres),
            (0.8, self.freeze_leader),
        ], key=lambda item: item[0])
        next_kill = self.started + self.kill_every
        kills_until = self.started + self.spread
        while len(self.run_ids) < self.runs or faults or time.monotonic() < kills_until:
            self._enqueue_due()
            now = time.monotonic()
            if faults and now - self.started >= faults[0][0] * self.spread:
                faults.pop(0)[1]()
            if now >= next_kill and now < kills_until:
                self.kill_a_worker()
                next_kill = now + self.kill_every * self.random.uniform(0.5, 1.5)
            self.supervise()
            time.sleep(0.05)
        log(f"enqueued {len(self.run_ids)} runs, {len(self.kills)} kills; waiting until quiet")
        quiet = self._retry(self._wait_until_quiet, timeout=self.quiet_timeout + 60)
        log(f"quiet: {quiet}")
        self.stop_all()
        return self._retry(self.report)

    def _wait_until_quiet(self):
        from jobs.models import JobRun
        from jobs.status import RunStatus

        deadline = time.monotonic() + self.quiet_timeout
        while time.monotonic() < deadline:
            if not JobRun.objects.filter(pk__in=self.run_ids).exclude(status__in=RunStatus.terminal()).exists():
                return True
            self.supervise()
            time.sleep(0.5)
        return False

    def report(self):
        from django.db import connection
        from django.db.models import Count

        from jobs.models import JobAttempt, JobRun
        from jobs.samples import EFFECTS_TABLE
        from jobs.status import AttemptOutcome, RunStatus

        runs = JobRun.objects.filter(pk__in=self.run_ids)
        found = set(str(pk) for pk in runs.values_list("pk", flat=True))
        statuses = dict(runs.values_list("status").annotate(n=Count("pk")).order_by())
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT e.run_id, count(*), min(r.status) FROM {EFFECTS_TABLE} e "
                           "JOIN jobs_jobrun r ON r.id = e.run_id GROUP BY e.run_id")
            effects = cursor.fetchall()
        ticks = (JobRun.objects.filter(schedule_id=self.schedule_id).values("run_after")
                 .annotate(n=Count("pk")).filter(n__gt=1).count())
        detections = []
        for pid, finished_at in (JobAttempt.objects.filter(run__in=runs, outcome=AttemptOutcome.WORKER_LOST,
                                                           worker_pid__in=list(self.kills))
                                 .values_list("worker_pid", "finished_at")):
            detections.append(finished_at.timestamp() - self.kills[pid])
        detections.sort()
        p95 = detections[max(0, math.ceil(0.95 * len(detections)) - 1)] if detections else 0.0
        return {
            "runs": len(self.run_ids),
            "terminal": sum(statuses.get(s, 0) for s in RunStatus.terminal()),
            "succeeded": statuses.get(RunStatus.SUCCEEDED, 0),
            "dead": statuses.get(RunStatus.DEAD, 0),
            "lost": len(set(self.run_ids) - found),
            "stuck": sum(n for s, n in statuses.items() if s not in RunStatus.terminal()),
            "wrongly_dead": sum(1 for _, _, status in effects if status != RunStatus.SUCCEEDED),
            "duplicate_effects": sum(n - 1 for _, n, _ in effects if n > 1),
            "double_fires": ticks,
            "kills": len(self.kills),
            "aimed_kills": self.aimed_kills,
            "lost_worker_detections": len(detections),
            "detect_max": detections[-1] if detections else 0.0,
            "detect_p95": p95,
        }


def summary(report):
    return (f"chaos: runs={report['runs']} lost={report['lost']} stuck={report['stuck']} "
            f"wrongly_dead={report['wrongly_dead']} duplicate_effects={report['duplicate_effects']} "
            f"double_fires={report['double_fires']} detect_p95={report['detect_p95']:.1f}s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--spread", type=float, default=None, help="seconds over which the runs are enqueued")
    parser.add_argument("--quiet-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from project.embedded import EmbeddedServices

    var_dir = ROOT / "var" / f"chaos{os.getpid()}"
    services = EmbeddedServices(var_dir, throwaway=True)
    services.start()
    env = dict(os.environ, ENGRAM_VAR_DIR=str(var_dir), DATABASE_URL=services.database_url(),
               REDIS_URL=services.redis_url(), DJANGO_SETTINGS_MODULE="project.settings", PYTHONUNBUFFERED="1")
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        chaos = Chaos(services, env, runs=options.runs, workers=options.workers, kill_every=options.kill_every,
                      spread=options.spread, quiet_timeout=options.quiet_timeout, log_dir=var_dir / "logs",
                      seed=options.seed)
        try:
            report = chaos.run()
        finally:
            chaos.stop_all()
        for key, value in report.items():
            print(f"{key:>24}: {value:.2f}" if isinstance(value, float) else f"{key:>24}: {value}")
        print(summary(report))
    finally:
        from django.db import connections

        connections.close_all()
        services.destroy()


if __name__ == "__main__":
    main()
