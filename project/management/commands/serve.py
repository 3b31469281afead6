"""manage.py serve: Daphne, the workers and the scheduler, supervised; Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.queues import worker_queue_names
from project.embedded import EmbeddedServices


class Command(BaseCommand):
    help = "Run the web server, workers and the scheduler until Ctrl-C (what `make run` starts)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("ENGRAM_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ENGRAM_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--keep-services", action="store_true",
                            help="leave the embedded PostgreSQL and Redis running on exit")

    def handle(self, *args, host, port, workers, keep_services, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        specs = {"web": [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "project.asgi:application"]}
        for number in range(1, workers + 1):
            # Each worker also runs RQ's scheduler (delayed runs, retry backoff); RQ locks it per queue.
            specs[f"worker-{number}"] = manage + ["rqworker", "--with-scheduler", *worker_queue_names()]
        # The scheduler fires schedules and also does what `jobs housekeeping` did (dispatch + reconcile).
        specs["scheduler"] = manage + ["jobs", "scheduler"]
        env = self._metrics_env()
        children = {name: self._start(cmd, env) for name, cmd in specs.items()}
        self.stdout.write(self.style.SUCCESS(
            f"\nEngram is up:\n  web      http://{host}:{port}/\n  admin    http://{host}:{port}/admin/\n"
            f"  queues   http://{host}:{port}/admin/jobs/worker/queues/\n  {workers} workers, scheduler; Ctrl-C stops everything.\n"
        ))
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in list(children.items()):
                    if proc.poll() is not None and not stopping:
                        # A worker ends itself after a hard time limit or a forced cancel: replace it.
                        self.stderr.write(f"{name} exited with {proc.returncode}; restarting")
                        time.sleep(0.5)
                        children[name] = self._start(specs[name], env)
                time.sleep(0.5)
        finally:
            self._stop_all(children)
            if not keep_services and (settings.EMBEDDED_POSTGRES or settings.EMBEDDED_REDIS):
                stopped = EmbeddedServices(settings.VAR_DIR).stop(
                    postgres=settings.EMBEDDED_POSTGRES, redis=settings.EMBEDDED_REDIS
                )
                self.stdout.write(f"stopped embedded {', '.join(stopped) or 'services'}")

    def _metrics_env(self):
        """Put every child in Prometheus' multiprocess mode, in a directory emptied now.

        The web's /metrics then adds up the series of every worker on this machine. Stale files
        from a previous start would add their old counts (and their dead processes) to the new ones.
        """
        metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.VAR_DIR / "metrics")
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):  # only prometheus-client's files, whatever else lives there
            stale.unlink(missing_ok=True)
        return dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))

    def _start(self, cmd, env):
        # Own process group: the terminal's Ctrl-C reaches us, and we stop the children in order.
        return subprocess.Popen(cmd, start_new_session=True, env=env)

    def _stop_all(self, children, timeout=None):
        timeout = timeout or settings.JOBS_SHUTDOWN_GRACE_SECONDS + 5
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
