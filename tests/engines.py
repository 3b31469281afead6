"""Pytest plugin (loaded with -p, before pytest-django reads settings): a throwaway PostgreSQL
and Redis for the session.

Tests use the same real engines as production, never SQLite or a fake Redis. The cluster lives
under var/ (pgserver as root needs a path it may chmod) and is deleted at the end. It starts at
import time because pytest-django imports the settings before any pytest_configure hook runs.
"""

import os
import shutil
from pathlib import Path

from project.embedded import EmbeddedServices

ROOT = Path(__file__).resolve().parent.parent


def _start():
    # Short path: unix socket paths are limited to ~100 bytes.
    var_dir = ROOT / "var" / f"t{os.getpid()}"
    shutil.rmtree(var_dir, ignore_errors=True)
    services = EmbeddedServices(var_dir, throwaway=True)
    services.start()
    os.environ["ENGRAM_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = services.database_url()
    os.environ["REDIS_URL"] = services.redis_url()
    return services


_services = _start()


def pytest_configure(config):
    config.engram_services = _services


def pytest_unconfigure(config):
    _services.destroy()
