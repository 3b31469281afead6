"""django-rq's pages name the real task of a run, and its worker page takes a worker's name."""

import pytest
from django.test import Client
from django_rq.settings import get_queues_map

from jobs.models import JobRun
from jobs.queues import get_redis, get_rq_queue, worker_queue_names
from jobs.samples import returns_42
from jobs.worker import EngramWorker
from tests.users import make_operator


@pytest.fixture
def operator_client():
    client = Client(raise_request_exception=False)
    client.force_login(make_operator())
    return client


@pytest.mark.django_db(transaction=True)  # the run reaches RQ after commit
def test_the_queue_and_job_pages_show_the_runs_task_not_the_runner(operator_client):
    run = JobRun.objects.get(pk=returns_42.enqueue().id)
    index = get_queues_map()[run.rq_queue_name]
    for url in (f"/admin/rq/queues/{index}/", f"/admin/django_rq/dashboard/queues/{index}/",
                f"/admin/rq/queues/{index}/{run.rq_job_id}/"):
        page = operator_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert f"jobs.samples.returns_42 (run {run.pk})" in text, url
        assert "jobs.runner.execute" not in text, url


@pytest.mark.django_db
def test_the_worker_page_answers_for_a_workers_name_as_for_its_key(operator_client):
    worker = EngramWorker([get_rq_queue(name) for name in worker_queue_names()], connection=get_redis())
    worker.register_birth()
    try:
        for base in ("/admin/django_rq/dashboard/workers/0/", "/admin/rq/workers/0/"):
            for key in (worker.name, worker.key):
                page = operator_client.get(f"{base}{key}/")
                assert page.status_code == 200 and worker.name in page.content.decode(), (base, key)
            assert operator_client.get(f"{base}no-such-worker/").status_code == 404
    finally:
        worker.register_death()
