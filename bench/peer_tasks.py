"""The no-op job of each system bench/peers.py compares (imported by the peers' worker processes)."""

import os
import time
from urllib.parse import urlsplit

import django
import redis
from celery import Celery
from procrastinate import App, PsycopgConnector

django.setup()  # the worker processes import this module first; @task needs the settings

from django.tasks import task  # noqa: E402


def _socket_path():
    return urlsplit(os.environ["REDIS_URL"]).path


def _conninfo():
    url = urlsplit(os.environ["DATABASE_URL"])
    query = dict(part.split("=", 1) for part in url.query.split("&") if part)
    return f"dbname={url.path.lstrip('/')} user={url.username or 'postgres'} host={query.get('host', url.hostname)}"


@task(backend="db")
def db_noop():
    """django-tasks' database backend."""


procrastinate_app = App(connector=PsycopgConnector(conninfo=_conninfo()))


@procrastinate_app.task(queue="peers")
def procrastinate_noop():
    """Procrastinate."""


celery_app = Celery("peers", broker=f"redis+socket://{_socket_path()}")
celery_app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False, task_default_queue="peers_celery",
                       broker_connection_retry_on_startup=True)
_celery_redis = redis.Redis(unix_socket_path=_socket_path())


@celery_app.task(name="peers.celery_noop")
def celery_noop(sent_at=None):
    """Celery keeps no record of a finished task: count it (and its start latency) in Redis."""
    if sent_at is not None:
        _celery_redis.rpush("peers:celery:latency", time.time() - sent_at)
    _celery_redis.incr("peers:celery:done")


def plain_noop():
    """Stock RQ's job: a plain function."""


def run_procrastinate_worker():
    procrastinate_app.run_worker(queues=["peers"], concurrency=1, wait=True, install_signal_handlers=True)
