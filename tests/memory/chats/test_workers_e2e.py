"""Chat jobs on real `manage.py rqworker` subprocesses: SIGTERM drains, outages are survived."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connections

from jobs import RunStatus
from jobs.models import JobRun
from jobs.queues import worker_queue_names
from memory.chats.models import ChatJobStatus, Message, MessageIngestionJob
from memory.chats.services.starting import start_ingestion
from memory.chats.tasks import score_message
from tests.e2e.conftest import wait_for
from tests.memory.factories import make_workspace

from .factories import make_chat, make_messages
from .shapes import export_message, single_chat_export, write_export

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(subprocess_env, tmp_path):
    started = []

    def start(**env):
        log = open(tmp_path / f"worker{len(started)}.log", "w")
        proc = subprocess.Popen([sys.executable, "manage.py", "rqworker", *worker_queue_names(["memory"])],
                                env=dict(subprocess_env, JOBS_HEARTBEAT_SECONDS="0.5", **env), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log.name
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_sigterm_lets_a_running_import_finish_within_the_drain_timeout(worker, tmp_path):
    workspace = make_workspace("demo")
    messages = [export_message(i, f"message {i} about the quarterly roadmap") for i in range(1, 6001)]
    job = start_ingestion(workspace, str(write_export(tmp_path / "r.json", single_chat_export(messages))))
    proc = worker(JOBS_SHUTDOWN_GRACE_SECONDS="120")
    wait_for(lambda: MessageIngestionJob.objects.filter(pk=job.pk, status=ChatJobStatus.RUNNING, seen__gt=0).exists(),
             message="the import to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 0
    job.refresh_from_db()
    assert job.status == ChatJobStatus.COMPLETED and job.created == 6000 == Message.objects.count()
    assert JobRun.objects.get(task_path="memory.chats.tasks.ingest_telegram_export").status == RunStatus.SUCCEEDED


# The worker waits Redis and Postgres out (jobs.worker / jobs.runner) and takes the next job itself.
def test_a_worker_reconnects_after_redis_and_postgres_restart(worker, services):
    chat = make_chat(make_workspace())
    first, second = make_messages(chat, ["The backup failed again tonight, can someone look?",
                                         "Restored from the snapshot, all good now."])
    proc = worker()
    score_message.enqueue(first.pk)
    wait_for(lambda: Message.objects.get(pk=first.pk).importance_score is not None, message="the first score")
    connections.close_all()
    services.stop_redis()
    services.stop_postgres()
    time.sleep(3)  # the worker's polls fail meanwhile
    services.start()
    score_message.enqueue(second.pk)
    wait_for(lambda: Message.objects.get(pk=second.pk).importance_score is not None, timeout=90,
             message=f"the score after the outage (see {proc.log_path})")
    assert proc.poll() is None, "the same worker process did the work"
