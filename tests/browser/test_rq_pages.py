"""In a real browser: our Queues, Workers and Runs pages replace django-rq's, which are not mounted.

django-rq's pages named every job `jobs.runner.execute` and counted 0 failed (a run's failure lives in
the ledger; its RQ job ends normally). Ours read the ledger, and the Redis depth per lane.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from jobs.pausing import pause_queue, resume_queue
from jobs.queues import get_rq_queue
from jobs.samples import fails_with, noop, returns_42, sleeps
from jobs.stats import FAILED_OUTCOMES
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUNNER = "jobs.runner.execute"


def sign_in(live_site, page):
    User.objects.create_superuser("browser", "browser@example.com", "browser-pw")
    page.goto(f"{live_site}/admin/login/")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_site}/admin/")


def ledger_figures(queue, lane):
    """The Queues page's failure figures for one lane, straight from the ledger."""
    from jobs.models import JobAttempt, JobRun

    since = timezone.now() - timedelta(hours=24)
    attempts = JobAttempt.objects.filter(finished_at__gte=since, outcome__in=FAILED_OUTCOMES,
                                         run__queue=queue, run__lane=lane)
    return {
        "failed": attempts.values("run").distinct().count(),
        "dead": JobRun.objects.filter(queue=queue, lane=lane, status="dead", finished_at__gte=since).count(),
        "failed_attempts": attempts.count(),
    }


def test_our_queue_pages_show_real_tasks_failures_and_depth_without_javascript_errors(live_site, page):
    from jobs.models import JobRun, Worker

    sign_in(live_site, page)
    errors = []
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    succeeded = JobRun.objects.get(pk=returns_42.enqueue().id)
    dead = JobRun.objects.get(pk=fails_with.enqueue("ValueError").id)  # not retried: dead at once
    wait_for(lambda: JobRun.objects.filter(pk=succeeded.pk, status="succeeded").exists(), message="the run")
    wait_for(lambda: JobRun.objects.filter(pk=dead.pk, status="dead").exists(), message="the dead run")

    # The Workers page shows the run a worker is on, by its task.
    running = JobRun.objects.get(pk=sleeps.enqueue(4).id)
    wait_for(lambda: Worker.objects.filter(current_run_id=running.pk).exists(), message="the worker on the run")
    page.goto(f"{live_site}/admin/jobs/worker/")
    worker = Worker.objects.get(current_run_id=running.pk)
    row = page.locator("#result_list tbody tr", has_text=worker.name)
    assert "jobs.samples.sleeps" in row.inner_text()

    # Depth is Redis's: a paused queue keeps its run in its lane's RQ queue.
    pause_queue("topics")
    try:
        waiting = JobRun.objects.get(pk=noop.using(queue_name="topics").enqueue().id)
        wait_for(lambda: get_rq_queue(waiting.rq_queue_name).count == 1, message="the RQ job")
        page.goto(f"{live_site}/admin/jobs/worker/queues/")
        depth = page.locator(f'tr[data-lane="{waiting.rq_queue_name}"] [data-figure="depth"]')
        assert int(depth.inner_text()) == get_rq_queue(waiting.rq_queue_name).count == 1
    finally:
        resume_queue("topics")

    # Failure figures equal a direct ledger query (django-rq's said 0).
    row = page.locator(f'tr[data-lane="{dead.rq_queue_name}"]')
    shown = {name: int(row.locator(f'[data-figure="{name}"]').inner_text())
             for name in ("failed", "dead", "failed_attempts")}
    assert shown == ledger_figures(dead.queue, dead.lane)
    assert shown["dead"] >= 1

    # Runs are listed and shown by their task, never by the RQ entry point.
    page.click(f'#queue-{dead.queue} th a[title="this queue\'s runs"]')
    page.wait_for_load_state("networkidle")
    listing = page.locator("#result_list").inner_text()
    assert "jobs.samples.fails_with" in listing and "jobs.samples.returns_42" in listing
    pages = {"/admin/jobs/": "Queues", "/admin/jobs/jobrun/?status=dead": "jobs.samples.fails_with",
             f"/admin/jobs/jobrun/{dead.pk}/change/": "jobs.samples.fails_with",
             f"/runs/{dead.pk}/": "jobs.samples.fails_with", "/dashboard/": "Dashboard"}
    for path, expected in pages.items():
        response = page.goto(f"{live_site}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        text = page.content()
        assert expected in text and RUNNER not in text, path
    assert errors == [], "\n".join(errors)

    # django-rq's pages are gone, not just unlinked.
    for path in ("/admin/rq/", "/admin/rq/queues/0/finished/", "/admin/django_rq/",
                 "/admin/django_rq/dashboard/", "/admin/django_rq/dashboard/queues/0/finished/"):
        assert page.goto(f"{live_site}{path}").status == 404, path
    assert "django_rq" not in page.goto(f"{live_site}/admin/").text()
