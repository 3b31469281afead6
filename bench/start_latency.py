"""Where Engram's enqueue-to-start latency goes: per-step timings of an idle worker's pick-up.

    .venv/bin/python bench/start_latency.py [--jobs 3000] [--warmup 50] [--variant …]

Measures what bench/peers.py calls start latency (the run's `started_at` minus its `enqueued_at`)
the same way, one job at a time to an idle `manage.py rqworker --with-scheduler`, but over
thousands of jobs and cut into steps. The enqueuing side is timed in this process, the worker's
in the worker (a subclass of EngramWorker that only reads the clock around its own steps and
writes what it saw when it stops); both use the wall clock of the one machine:

    build     enqueued_at -> the INSERT sent (the run and its arguments built)
    insert    the INSERT and its durable commit (autocommit: one round trip and a WAL fsync)
    wake      committed -> the worker's BLPOP returned the job (the enqueuer's Redis pipeline
              and the wake-up), or its take script, run between two pops, found it
    take      the take script after BLPOP (mark the hash started, read the payload)
    hand      taken -> the session starts the run (RQ's work loop, execute_job)
    check     the session's connection check (a SELECT 1 after an idle spell)
    now       checked -> started_at (the claim's timestamp)

The steps add up to the latency. Also shown: `push` (the enqueuer's own pipeline round trip,
inside `wake`), `claim` (after started_at, so outside the latency: the claim's UPDATE and the
receivers of its run_status_changed), `back` (the worker's previous job done -> its first look
at the lanes) and `margin` (that look -> the next enqueue began).

Prints each step's p50/p90/p99/max, which steps make up the slowest 1% of jobs, what else the
worker did during a job's window (garbage collections, its heartbeat thread, its live-event
thread) and the enqueuer's collections, and one line:

    start_latency: jobs=… p50_ms=… p99_ms=… enqueue_share_p50=… insert_share_slowest=… top_step_in_slowest=…

(enqueue_share_p50: the median job's enqueue call itself, build + insert + push, over its total;
the push's reply can come after the worker already woke, so on a quick machine it exceeds 1;
insert_share_slowest: the INSERT and its commit's share of the slowest 1% of jobs.)
"""

import argparse
import gc
import json
import os
import signal
import statistics
import subprocess
import sys
import time

from cluster import ROOT, start_cluster, wait_until

BENCH = ROOT / "bench"
STEPS = ["build", "insert", "wake", "take", "hand", "check", "now"]


def _gc_watch(events):
    """Record every collection's (start, end, generation) in `events` (wall clock)."""
    started = {}

    def callback(phase, info):
        if phase == "start":
            started["at"] = time.time()
        else:
            events.append((started.get("at", time.time()), time.time(), info["generation"]))

    gc.callbacks.append(callback)


def timed_worker_class():
    """EngramWorker with a clock read around each pick-up step (imported by the worker process)."""
    import jobs.live
    import jobs.worker
    from jobs.job_taker import JobTaker
    from jobs.models import JobRun, Worker
    from jobs.runner import WorkerSession
    from jobs.worker import EngramWorker

    marks = {}  # the current job's marks
    info = {}
    runs = []
    # What else the worker process does meanwhile: (start, end) wall-clock intervals.
    busy = {"gc": [], "ledger heartbeat": [], "lost-run sweep": [], "live batch": [], "queue depths": []}

    def interval(name, function):
        def timed(*args, **kwargs):
            start, cpu = time.time(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                busy[name].append((start, time.time(), time.thread_time() - cpu))

        return timed

    async def timed_batch(self, batch, send=jobs.live.ChannelPublisher._send_batch):
        start = time.time()
        try:
            await send(self, batch)
        finally:
            busy["live batch"].append((start, time.time()))

    def wrap(owner, name, before=None, after=None):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            if before:
                marks[before] = time.time()
            result = original(*args, **kwargs)
            if after:
                marks[after] = time.time()
            return result

        setattr(owner, name, timed)

    class TimedEngramWorker(EngramWorker):
        def bootstrap(self, *args, **kwargs):
            super().bootstrap(*args, **kwargs)
            info["tracked_at_start"] = len(gc.get_objects())
            gc_events = []
            busy["gc"] = gc_events
            _gc_watch(gc_events)
            Worker.beat = classmethod(interval("ledger heartbeat", Worker.beat.__func__))
            jobs.worker.recover_lost_runs = interval("lost-run sweep", jobs.worker.recover_lost_runs)
            jobs.live.queue_depths = interval("queue depths", jobs.live.queue_depths)
            jobs.live.ChannelPublisher._send_batch = timed_batch
            variant = os.environ.get("START_LATENCY_VARIANT", "").split(",")
            if "nolive" in variant:
                jobs.live.publisher.send = lambda groups, event: None
            if "altlive" in variant:  # every other job's events are dropped: a paired comparison
                send = jobs.live.publisher.send
                jobs.live.publisher.send = lambda groups, event: (
                    send(groups, event) if len(runs) % 2 else None)
            blpop = self.connection.blpop

            def timed_blpop(*args, **kwargs):
                popped = blpop(*args, **kwargs)
                if popped:
                    marks["blpop_got"] = time.time()
                return popped

            self.connection.blpop = timed_blpop
            wrap(JobTaker, "take", "take_called", "take_returned")
            original_take = JobTaker.take

            def first_take(*args, **kwargs):
                marks.setdefault("first_take_called", time.time())
                cpu = time.thread_time()
                try:
                    return original_take(*args, **kwargs)
                finally:
                    marks["take_cpu"] = time.thread_time() - cpu

            JobTaker.take = first_take
            wrap(WorkerSession, "_check_connection", None, "checked")
            claim = JobRun.claim.__func__

            def timed_claim(cls, run_id, *args, **kwargs):
                marks["claim_called"] = time.time()
                result = claim(cls, run_id, *args, **kwargs)
                marks["claimed"] = time.time()
                return result

            JobRun.claim = classmethod(timed_claim)
            announce = JobRun._announce

            def timed_announce(run, old_status, status=None):
                start = time.time()
                announce(run, old_status, status)
                if status == "started":
                    marks["announced"], marks["announce"] = time.time(), time.time() - start

            JobRun._announce = timed_announce

        def _execute_run(self, taken):
            marks["handed"] = time.time()
            marks["run"] = taken.run_id
            marks["previous_published"] = len(runs) % 2 == 0  # its predecessor's index was odd
            marks["switch"] = sys.getswitchinterval()
            try:
                return super()._execute_run(taken)
            finally:
                marks["finished"] = time.time()
                runs.append(dict(marks))
                marks.clear()
                marks["previous_finished"] = runs[-1]["finished"]
                if "altswitch" in os.environ.get("START_LATENCY_VARIANT", ""):  # the next pick-up's
                    sys.setswitchinterval(0.001 if len(runs) % 2 else 0.005)

        def register_death(self):
            with open(os.environ["START_LATENCY_STEPS"], "w") as f:
                json.dump({"jobs": runs, "busy": busy, "info": info}, f)
            super().register_death()

    return TimedEngramWorker


if os.environ.get("START_LATENCY_STEPS"):  # the worker process: its class, by dotted path
    import django

    django.setup()
    TimedEngramWorker = timed_worker_class()


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--variant", default="",
                        help="experiments: nolive (the worker sends no live events), altlive (every other job's), "
                             "nofsync (the enqueue commits without waiting for its WAL flush: what the "
                             "durable commit costs, not a proposal), altfsync (every other enqueue), altswitch "
                             "(every other pick-up with a 1 ms GIL switch interval instead of 5)")
    options = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    services, var_dir = start_cluster("sl")
    steps_file = var_dir / "steps.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCH), str(ROOT)]), PYTHONUNBUFFERED="1",
               PYTHONFAULTHANDLER="1", START_LATENCY_STEPS=str(steps_file), START_LATENCY_VARIANT=options.variant)
    worker = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import jobs.dispatch
        from jobs.models import JobRun
        from jobs.samples import noop

        marks, gcs = {}, []
        _gc_watch(gcs)
        insert, push_written = JobRun.insert, jobs.dispatch.push_written

        def timed_insert(run, *args, **kwargs):
            marks["insert_called"] = time.time()
            insert(run, *args, **kwargs)
            marks["inserted"] = time.time()

        def timed_push(*args, **kwargs):
            result = push_written(*args, **kwargs)
            marks["pushed"] = time.time()
            return result

        JobRun.insert, jobs.dispatch.push_written = timed_insert, timed_push
        from django.db import connection

        variant = options.variant.split(",")
        if "nofsync" in variant:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
        log = open(ROOT / "var" / "start-latency-worker.log", "w")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "--with-scheduler", "--worker-class",
             "start_latency.TimedEngramWorker", "default.high", "default.normal", "default.low"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        enqueued = []
        for number in range(options.warmup + options.jobs):
            marks.clear()
            if "altfsync" in variant:  # every other enqueue without its WAL flush: a paired comparison
                marks["fsync"] = number % 2 == 0
                with connection.cursor() as cursor:
                    cursor.execute(f"SET synchronous_commit = {'on' if marks['fsync'] else 'off'}")
            run_id = noop.enqueue().id
            wait_until(lambda: JobRun.objects.filter(pk=run_id, status="succeeded").exists(),
                       timeout=120 if number == 0 else 60)
            run = JobRun.objects.get(pk=run_id)
            if number >= options.warmup:
                enqueued.append({"run": str(run_id), "enqueued": run.enqueued_at.timestamp(),
                                 "started": run.started_at.timestamp(), **marks})
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(worker.pid, signal.SIGABRT)
            raise
        worker = None
        report(enqueued, json.loads(steps_file.read_text()), gcs)
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGKILL)
        try:
            from django.db import connections

            connections.close_all()
        finally:  # even when the settings did not load (a bad JOBS_* variable): no stray servers
            services.destroy()


def report(enqueued, worker_side, client_gcs):
    by_run = {job["run"]: job for job in worker_side["jobs"]}
    rows = []
    for job in enqueued:
        w = by_run[job["run"]]
        popped_by_blpop = "blpop_got" in w
        # BLPOP woke on the push; otherwise the take script, run between two pops, found the job.
        woke = w["blpop_got"] if popped_by_blpop else max(job["inserted"], w["take_called"])
        step = {
            "build": job["insert_called"] - job["enqueued"],
            "insert": job["inserted"] - job["insert_called"],
            "wake": woke - job["inserted"],
            "take": w["take_returned"] - woke,
            "hand": w["handed"] - w["take_returned"],
            "check": w["checked"] - w["handed"],
            "now": job["started"] - w["checked"],
        }
        back = w.get("first_take_called", 0) - w.get("previous_finished", 0)
        margin = job["insert_called"] - w.get("first_take_called", 0)
        rows.append({"total": job["started"] - job["enqueued"], "steps": step, "blpop": popped_by_blpop,
                     "push": job["pushed"] - job["inserted"], "previous_published": w["previous_published"],
                     "fsync": job.get("fsync"), "switch": w["switch"],
                     "take_cpu": w["take_cpu"],
                     "back": back if w.get("previous_finished") else None, "margin": margin,
                     "window": (job["enqueued"], job["started"])})
    totals = [r["total"] for r in rows]
    print(f"jobs={len(rows)} popped by BLPOP: {sum(r['blpop'] for r in rows)}, by the take script: "
          f"{sum(not r['blpop'] for r in rows)}")
    print(f"{'step (ms)':<10}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
    for name in ["total", *STEPS, "push"]:
        values = totals if name == "total" else [r["push"] for r in rows] if name == "push" \
            else [r["steps"][name] for r in rows]
        print(f"{name:<10}" + "".join(f"{1000 * percentile(values, q):>8.2f}" for q in (0.5, 0.9, 0.99, 1.0)))
    claims = [by_run[job["run"]]["claimed"] - by_run[job["run"]]["claim_called"] for job in enqueued]
    print(f"{'claim':<10}" + "".join(f"{1000 * percentile(claims, q):>8.2f}" for q in (0.5, 0.9, 0.99, 1.0))
          + "   (after started_at: the claim's UPDATE and its run_status_changed receivers)")
    announces = [by_run[job["run"]]["announce"] for job in enqueued]
    print(f"{'announce':<10}" + "".join(f"{1000 * percentile(announces, q):>8.2f}" for q in (0.5, 0.9, 0.99, 1.0))
          + "   (of the claim: run_status_changed 'started' and its receivers)")
    print(f"{'take cpu':<10}" + "".join(f"{1000 * percentile([r['take_cpu'] for r in rows], q):>8.2f}"
                                        for q in (0.5, 0.9, 0.99, 1.0)) + "   (the worker's CPU time in the take)")
    backs = [r["back"] for r in rows if r["back"] is not None]
    print(f"{'back':<10}" + "".join(f"{1000 * percentile(backs, q):>8.2f}" for q in (0.5, 0.9, 0.99, 1.0))
          + "   (the worker's previous job done -> its first take of the next)")
    margins = [r["margin"] for r in rows]
    print(f"{'margin':<10}" + "".join(f"{1000 * percentile(margins, q):>8.2f}" for q in (0.01, 0.1, 0.5, 1.0))
          + "   (that take -> the enqueue began; p1/p10/p50/max; negative: still busy)")
    pairs = []
    if "altlive" in os.environ.get("START_LATENCY_VARIANT", ""):
        pairs = [(f"after a job whose live events were {'sent' if on else 'dropped'}",
                  [r for r in rows if r["previous_published"] == on]) for on in (True, False)]
    if "altfsync" in os.environ.get("START_LATENCY_VARIANT", ""):
        pairs = [(f"enqueue {'waits for' if on else 'does not wait for'} its WAL flush",
                  [r for r in rows if r["fsync"] == on]) for on in (True, False)]
    if "altswitch" in os.environ.get("START_LATENCY_VARIANT", ""):
        pairs = [(f"GIL switch interval {1000 * interval:g} ms", [r for r in rows if r["switch"] == interval])
                 for interval in (0.005, 0.001)]
    for label, group in pairs:
        print(f"{label} ({len(group)} jobs):")
        for name in ("total", "insert", "wake", "take"):
            values = [r["total"] if name == "total" else r["steps"][name] for r in group]
            print(f"  {name:<8}" + "".join(f"{1000 * percentile(values, q):>8.2f}" for q in (0.5, 0.9, 0.99, 1.0)))
    cut = percentile(totals, 0.99)
    slow = [r for r in rows if r["total"] >= cut]
    print(f"\nslowest {len(slow)} jobs (total >= p99 {1000 * cut:.2f} ms): mean per step (ms), and over the median")
    excess = {}
    for name in STEPS:
        mean = statistics.mean(r["steps"][name] for r in slow)
        median = statistics.median(r["steps"][name] for r in rows)
        excess[name] = mean - median
        print(f"  {name:<8}{1000 * mean:>8.2f}{1000 * (mean - median):>+8.2f}")
    print(f"\nobjects the worker's collector tracked at start-up: {worker_side['info']['tracked_at_start']}")
    print("other work during a job's window (enqueued -> started):")
    for label, events in [*((f"worker: {name}", e) for name, e in worker_side["busy"].items()),
                          ("enqueuer: gc", client_gcs)]:
        hit = [r for r in rows if any(e[0] < r["window"][1] and e[1] > r["window"][0] for e in events)]
        slow_hit = [r for r in hit if r["total"] >= cut]
        longest = max((e[1] - e[0] for e in events), default=0)
        worker_part = statistics.mean(r["steps"]["wake"] + r["steps"]["take"] for r in hit) if hit else 0
        timed_cpu = events and "gc" not in label and len(events[0]) == 3  # (start, end, CPU seconds)
        cpu = f"; CPU p50 {1000 * percentile([e[2] for e in events], 0.5):.2f} ms" if timed_cpu else ""
        print(f"  {label:<26} {len(events):>6} times (longest {1000 * longest:6.2f} ms{cpu}); overlapped "
              f"{len(hit):>4} jobs, {len(slow_hit)} of the slowest 1%; their wake+take mean "
              f"{1000 * worker_part:.2f} ms")
    print(f"  (wake+take mean over all jobs: "
          f"{1000 * statistics.mean(r['steps']['wake'] + r['steps']['take'] for r in rows):.2f} ms)")
    for generation in (0, 1, 2):
        lengths = [e[1] - e[0] for e in worker_side["busy"]["gc"] if e[2] == generation]
        if lengths:
            print(f"  worker gc generation {generation}: {len(lengths)} collections, "
                  f"longest {1000 * max(lengths):.2f} ms")
    enqueue_share = statistics.median(
        (r["steps"]["build"] + r["steps"]["insert"] + r["push"]) / r["total"] for r in rows)
    top = max(excess, key=excess.get)
    insert_share = sum(r["steps"]["insert"] for r in slow) / sum(r["total"] for r in slow)
    print(f"start_latency: jobs={len(rows)} p50_ms={1000 * statistics.median(totals):.2f} "
          f"p99_ms={1000 * cut:.2f} enqueue_share_p50={enqueue_share:.2f} insert_share_slowest={insert_share:.2f} "
          f"top_step_in_slowest={top}")


if __name__ == "__main__":
    main()
