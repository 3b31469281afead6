"""The cast and the data of the operator-page tests (test_queues_admin, test_task_policies_admin,
test_queue_pausing): an operator client, staff with chosen permissions, ledger rows and workers.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun, Worker


QUEUES_URL = reverse("admin:jobs_worker_queues")
TASKS_URL = reverse("admin:jobs_taskpolicy_tasks")
WORKERS_URL = reverse("admin:jobs_worker_changelist")


# --- the cast and the data ---------------------------------------------------------------------


@pytest.fixture
def operator():
    user = User.objects.create_superuser("operator", "op@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def staff_client(*perms):
    user = User.objects.create_user(f"staff{User.objects.count()}", password="pw", is_staff=True)
    for codename in perms:
        if codename == "operate_queues":
            # Made by a data migration, which a transactional test's flush removes (post_migrate
            # makes only the models' own permissions again).
            Permission.objects.get_or_create(
                codename=codename, content_type=ContentType.objects.get_for_model(JobRun),
                defaults={"name": "Can operate queues (empty, requeue, delete, stop, pause, resume)"})
        user.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename=codename))
    client = Client()
    client.force_login(user)
    return client


def make_run(task_path="jobs.samples.echo", status=RunStatus.SUCCEEDED, queue="topics", lane="normal",
             enqueued_ago=60.0, wait=None, took=None, **fields):
    """A ledger row with its times given as seconds: enqueued `enqueued_ago` s ago, waited, ran."""
    now = timezone.now()
    enqueued_at = now - timedelta(seconds=enqueued_ago)
    started_at = enqueued_at + timedelta(seconds=wait) if wait is not None else None
    finished_at = started_at + timedelta(seconds=took) if took is not None else None
    return JobRun.objects.create(task_path=task_path, status=status, queue=queue, lane=lane,
                                 enqueued_at=enqueued_at, started_at=started_at, finished_at=finished_at, **fields)


def make_worker(name, queues, heartbeat_ago=0.0, stopped=False, current_run=None):
    now = timezone.now()
    return Worker.objects.create(
        name=name, host="box", pid=123, queues=queues, heartbeat_at=now - timedelta(seconds=heartbeat_ago),
        stopped_at=now if stopped else None, current_run=current_run, jobs_done=7, jobs_failed=2,
    )


def lane_row(response, queue, lane):
    group = next(q for q in response.context["queues"] if q["name"] == queue)
    return group, next(row for row in group["lanes"] if row["lane"] == lane)


def jobs_command(*args):
    out = StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()
