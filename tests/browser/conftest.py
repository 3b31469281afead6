"""A real browser (Debian's chromium via Playwright) against Daphne and a real rqworker."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobs.queues import worker_queue_names

# Playwright's sync API runs an event loop in the test's thread; the test's own ORM calls are
# plain synchronous code all the same, so Django's async-safety guard is lifted for these tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture
def live_site(subprocess_env, tmp_path):
    """Daphne on a free loopback port plus one real rqworker, both on the test database."""
    port = _free_port()
    env = dict(subprocess_env, JOBS_LIVE_EVENT_INTERVAL_SECONDS="0.1")
    root = Path(__file__).resolve().parent.parent.parent
    procs = []
    for name, cmd in {
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"],
        "worker": [sys.executable, "manage.py", "rqworker", "--with-scheduler", *worker_queue_names()],
    }.items():
        log = open(tmp_path / f"{name}.log", "w")
        procs.append(subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    try:
        _wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def page():
    """A fresh headless chromium page (no browser download: Debian's package)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    from django.db import connections

    with sync_playwright() as playwright:
        # Inside Playwright's sync API an event loop counts as running in this thread, so Django's
        # connections live in another (asgiref) storage than outside it, and that storage outlives
        # the test: a connection opened by an earlier browser test would be found dead after a
        # Postgres restart in between. Each browser test starts and ends with none open there.
        connections.close_all()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        context.set_default_timeout(30_000)
        try:
            yield context.new_page()
        finally:
            connections.close_all()
            context.close()
            browser.close()
