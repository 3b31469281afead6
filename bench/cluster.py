"""A fresh, durable embedded PostgreSQL + Redis for one benchmark run (deleted afterwards)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def start_cluster(prefix, **env):
    """Start the services under var/<prefix><pid>, point this process at them; return (services, dir)."""
    from project.embedded import EmbeddedServices

    var_dir = ROOT / "var" / f"{prefix}{os.getpid()}"
    shutil.rmtree(var_dir, ignore_errors=True)
    services = EmbeddedServices(var_dir)  # fsync on: benchmarks measure the durable path
    services.start()
    os.environ.update(
        DATABASE_URL=services.database_url(), REDIS_URL=services.redis_url(), ENGRAM_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="project.settings", JOBS_LOG_LEVEL="WARNING", ENGRAM_DEBUG="0",
        ENGRAM_SECRET_KEY="bench-only-secret", **env,
    )
    return services, var_dir


def stop_workers(workers, timeout=30):
    """SIGTERM each worker's process group, then SIGKILL those still running after `timeout` seconds."""
    for proc in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wait_until(predicate, timeout=300, interval=0.005):
    """Poll `predicate` until it is true; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not finish in time")
        time.sleep(interval)
