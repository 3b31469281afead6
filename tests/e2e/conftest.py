import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import close_old_connections

from jobs.queues import worker_queue_names

FAST_TIMINGS = {
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_WORKER_TIMEOUT_SECONDS": "3",
    "JOBS_CANCEL_GRACE_SECONDS": "1",
    "JOBS_SHUTDOWN_GRACE_SECONDS": "1",
    "JOBS_DISPATCH_GRACE_SECONDS": "1",
    "JOBS_HOUSEKEEPING_SECONDS": "0.5",
}


def wait_for(predicate, timeout=60, interval=0.1, message="condition"):
    """Poll `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def processes(subprocess_env, settings, tmp_path):
    """Start manage.py subprocesses (real rqworkers, housekeeping) against the test database."""
    for name, value in FAST_TIMINGS.items():
        setattr(settings, name, float(value))
    env = dict(subprocess_env, **FAST_TIMINGS)
    started = []

    def start(*args):
        # A log file, not a pipe: nobody reads a pipe here, and a full one blocks the worker.
        log = open(tmp_path / f"{len(started)}-{args[0]}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = log.name
        started.append(proc)
        return proc

    def worker(*queues):
        return start("rqworker", "--with-scheduler", *(queues or worker_queue_names(["default"])))

    start.worker = worker
    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
