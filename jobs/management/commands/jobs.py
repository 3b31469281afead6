"""manage.py jobs catalog|queues|enqueue|list|show|retry|cancel|dispatch|reconcile|pause|resume|scheduler|
seed_schedules|housekeeping|health|metrics_server."""

import json
import math
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from redis.exceptions import RedisError

from jobs import safe_json
from jobs.conf import jobs_settings
from jobs.control import cancel_run, retry_run
from jobs.definitions import catalog, get_task
from jobs.dispatch import dispatch_pending
from jobs.models import JobRun
from jobs.pausing import pause_queue, paused_queues, resume_queue
from jobs.queues import lane_for_priority, worker_queue_names
from jobs.reconcile import reconcile
from jobs.signatures import validate_arguments
from jobs.status import RunStatus

MAX_LIST_LIMIT = 10_000
MAX_DELAY_SECONDS = 366 * 24 * 3600
MAX_LOOP_SECONDS = 3600.0


def _bad_value(message):
    """A bad value on the command line: one line on stderr and exit code 2, as argparse does."""
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Inspect and operate the job platform."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("catalog", help="every task with its policy")
        sub.add_parser("queues", help="queue lanes, in the order a worker should listen")
        p = sub.add_parser("enqueue", help="enqueue a task by dotted path")
        p.add_argument("task")
        p.add_argument("--args", dest="call_args", default="[]", help="JSON list")
        p.add_argument("--kwargs", dest="call_kwargs", default="{}", help="JSON object")
        p.add_argument("--queue")
        p.add_argument("--priority", help="-100..100; >0 is the high lane, <0 the low one")
        p.add_argument("--delay", help="seconds before it may run (0 to one year)")
        p = sub.add_parser("list", help="recent runs")
        p.add_argument("--status", choices=RunStatus.values)
        p.add_argument("--task")
        p.add_argument("--limit", default="20", help=f"1..{MAX_LIST_LIMIT}")
        for name in ("show", "retry", "cancel"):
            sub.add_parser(name, help=f"{name} one run").add_argument("id")
        sub.add_parser("pause", help="workers take no runs from QUEUE (it still accepts them)").add_argument("queue")
        sub.add_parser("resume", help="workers take runs from a paused QUEUE again").add_argument("queue")
        sub.add_parser("dispatch", help="push runs the outbox still holds to Redis")
        sub.add_parser("reconcile", help="recover lost runs and re-dispatch what Redis forgot")
        p = sub.add_parser("housekeeping", help="run dispatch + reconcile in a loop")
        p.add_argument("--interval", default=None, help="seconds between passes (0.1 to 3600)")
        sub.add_parser("seed_schedules", help="create the platform's default schedules that are missing")
        p = sub.add_parser("scheduler", help="fire schedules, dispatch + reconcile; one active at a time")
        p.add_argument("--tick", default="1", help="longest wait between steps (seconds, 0.01 to 3600)")
        p = sub.add_parser("health", help="the readiness checks of /readyz; exit 1 when one fails")
        p.add_argument("--json", action="store_true", dest="as_json")
        p = sub.add_parser("metrics_server", help="serve this machine's worker metrics (PROMETHEUS_MULTIPROC_DIR)")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, action, **options):
        for name, value in options.items():
            if isinstance(value, str):
                try:
                    safe_json.check_string(value, f"--{name.replace('call_', '').replace('_', '-')}")
                except safe_json.UnsafeInput as exc:
                    raise _bad_value(str(exc)) from None
        getattr(self, f"do_{action}")(**options)

    # --- commands ------------------------------------------------------------------------

    def do_catalog(self, **options):
        rows = [("task", "queue", "lane", "retry", "soft", "hard", "unique")]
        for task in catalog():
            rows.append((
                task.module_path, task.queue_name, lane_for_priority(task.priority).value, task.retry.describe(),
                _seconds(task.soft_time_limit), _seconds(task.hard_time_limit),
                "args" if task.unique_key is True else (task.unique_key or "-"),
            ))
        self._table(rows)

    def do_queues(self, **options):
        self.stdout.write(" ".join(worker_queue_names()))

    def do_enqueue(self, task, call_args, call_kwargs, queue, priority, delay, **options):
        try:
            definition = get_task(task)
        except LookupError as exc:
            raise _bad_value(str(exc)) from None
        call_args, call_kwargs = _json(call_args, list, "--args"), _json(call_kwargs, dict, "--kwargs")
        try:
            validate_arguments(definition, call_args, call_kwargs)
        except ValueError as exc:
            raise _bad_value(str(exc)) from None
        changes = {}
        if queue:
            changes["queue_name"] = queue
        if priority is not None:
            changes["priority"] = _integer(priority, "--priority", -100, 100)
        if delay is not None:
            seconds = _number(delay, "--delay", 0.0, MAX_DELAY_SECONDS)
            if seconds:
                changes["run_after"] = timezone.now() + timedelta(seconds=seconds)
        try:
            result = definition.using(**changes).enqueue(*call_args, **call_kwargs)
        except (InvalidTask, TypeError, ValueError) as exc:
            raise _bad_value(str(exc)) from None
        self.stdout.write(result.id)

    def do_list(self, status, task, limit, **options):
        limit = _integer(limit, "--limit", 1, MAX_LIST_LIMIT)
        runs = JobRun.objects.all()
        if status:
            runs = runs.filter(status=status)
        if task:
            runs = runs.filter(task_path=task)
        try:
            paused = paused_queues()
        except RedisError:
            paused = {"unknown (Redis unavailable)"}
        if paused:
            self.stdout.write(f"paused queues: {', '.join(sorted(paused))}")
        rows = [("id", "task", "status", "attempt", "queue", "enqueued")]
        for run in runs[:limit]:
            rows.append((str(run.pk), run.task_path, run.status, f"{run.attempt}/{run.max_attempts}",
                         run.rq_queue_name, run.enqueued_at.strftime("%Y-%m-%d %H:%M:%S")))
        self._table(rows)

    def do_show(self, id, **options):
        run = _get_run(id)
        fields = {
            "id": str(run.pk), "task": run.task_path, "status": run.status,
            "args": run.args, "kwargs": run.kwargs, "queue": run.rq_queue_name,
            "attempt": f"{run.attempt}/{run.max_attempts}", "enqueued_at": run.enqueued_at,
            "run_after": run.run_after, "started_at": run.started_at, "finished_at": run.finished_at,
            "worker": run.worker_name or None, "trigger": run.trigger,
            "parent": str(run.parent_id) if run.parent_id else None,
            "root": str(run.root_id) if run.root_id else None,
            "progress": {"done": run.progress_done, "total": run.progress_total, "message": run.progress_message},
            "result": run.result, "error": run.error_type or None,
            "error_message": run.error_message or None,
            "attempts": [
                {"number": a.number, "outcome": a.outcome, "worker": a.worker_name, "started_at": a.started_at,
                 "finished_at": a.finished_at, "error": a.error_type or None}
                for a in run.attempts.all()
            ],
        }
        self.stdout.write(json.dumps(fields, indent=2, default=str))

    def do_retry(self, id, **options):
        run = _get_run(id)
        if not run.is_finished:
            raise _bad_value(f"run {run.pk} is {run.status}; only finished runs can be retried")
        self.stdout.write(retry_run(run).id)

    def do_cancel(self, id, **options):
        run = _get_run(id)
        outcome = cancel_run(run)
        if outcome is None:
            raise _bad_value(f"run {run.pk} is {run.status}; nothing to cancel")
        self.stdout.write(f"{run.pk}: {'cancelled' if outcome == 'cancelled' else 'cancel requested'}")

    def do_pause(self, queue, **options):
        try:
            changed = pause_queue(queue)
        except ValueError as exc:
            raise _bad_value(str(exc)) from None
        self.stdout.write(f"{queue}: {'paused' if changed else 'already paused'}")

    def do_resume(self, queue, **options):
        try:
            changed = resume_queue(queue)
        except ValueError as exc:
            raise _bad_value(str(exc)) from None
        self.stdout.write(f"{queue}: {'resumed' if changed else 'was not paused'}")

    def do_dispatch(self, **options):
        self.stdout.write(f"dispatched {dispatch_pending()}")

    def do_reconcile(self, **options):
        self.stdout.write(json.dumps(reconcile()))

    def do_housekeeping(self, interval, **options):
        interval = (jobs_settings.HOUSEKEEPING_SECONDS if interval is None
                    else _number(interval, "--interval", 0.1, MAX_LOOP_SECONDS))
        self.stdout.write(f"housekeeping every {interval:g}s (dispatch, recover, reconcile, cancel)")
        try:
            while True:
                report = reconcile()
                if any(report.values()):
                    self.stdout.write(json.dumps(report))
                time.sleep(interval)
        except KeyboardInterrupt:
            pass

    def do_seed_schedules(self, **options):
        from jobs.defaults import seed_schedules

        created = seed_schedules()
        self.stdout.write(f"created: {', '.join(created)}" if created else "default schedules exist")

    def do_scheduler(self, tick, **options):
        import signal
        import threading

        from jobs.scheduler import Scheduler

        # A NaN or negative tick made the loop spin; an infinite one never woke to fire anything.
        tick = _number(tick, "--tick", 0.01, MAX_LOOP_SECONDS)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"scheduler: at most {tick:g}s between steps; the active one holds a lease in Postgres (JOBS_SCHEDULER_LEASE_SECONDS)")
        Scheduler(tick=tick).run(stop)

    def do_health(self, as_json, **options):
        from jobs.health import as_json as health_json, run_checks

        results = run_checks()
        if as_json:
            self.stdout.write(json.dumps(health_json(results), indent=2))
        else:
            self._table([("check", "status", "ms", "detail")] + [
                (r.name, "ok" if r.ok else "FAIL", f"{r.latency_ms:.1f}", r.detail) for r in results
            ])
        if not all(r.ok for r in results):
            raise SystemExit(1)

    def do_metrics_server(self, port, host, **options):
        from jobs.metrics.server import serve_metrics

        try:
            serve_metrics(host, port, ready=lambda url: self.stdout.write(f"serving worker metrics on {url}"))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            pass

    def _table(self, rows):
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _seconds(value):
    return f"{value:g}s" if value else "-"


def _json(raw, kind, flag):
    try:
        value = safe_json.loads(raw, flag)
    except safe_json.UnsafeInput as exc:
        raise _bad_value(str(exc)) from None
    if not isinstance(value, kind):
        raise _bad_value(f"{flag} must be a JSON {'list' if kind is list else 'object'}")
    return value


def _integer(raw, flag, low, high):
    """An integer option within [low, high], or a one-line error."""
    text = str(raw).strip()
    if not text.lstrip("+-").isdecimal() or len(text) > 20:
        raise _bad_value(f"{flag} must be an integer from {low} to {high}, got {text[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise _bad_value(f"{flag} must be an integer from {low} to {high}, got {text[:40]}")
    return value


def _number(raw, flag, low, high):
    """A finite number of seconds within [low, high], or a one-line error."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _bad_value(f"{flag} must be a number from {low:g} to {high:g}, got {str(raw)[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _bad_value(f"{flag} must be a number from {low:g} to {high:g}, got {str(raw)[:40]}")
    return value


def _get_run(run_id):
    try:
        return JobRun.objects.get(pk=run_id)
    except (JobRun.DoesNotExist, ValidationError):
        raise _bad_value(f"no run with id {run_id!r}") from None
