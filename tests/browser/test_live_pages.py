"""In a real browser: enqueue from the dashboard and watch the bar fill; retry a dead run in admin."""

import re

import pytest
from django.contrib.auth.models import User

from jobs import RunStatus
from jobs.models import JobRun
from jobs.samples import fails_first_time
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, site):
    User.objects.create_superuser("browser", "browser@example.com", "browser-pw")
    page.goto(f"{site}/admin/login/?next=/dashboard/")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/dashboard/")


def test_a_slow_job_enqueued_from_the_dashboard_fills_its_progress_bar_live(live_site, page):
    log_in(page, live_site)
    page.select_option("#id_task", "jobs.samples.slow_with_progress")
    page.fill("#id_kwargs", '{"total": 30, "delay": 0.1}')
    page.click("#enqueue button[type=submit]")
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]+/$"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    # The bar moves through intermediate values, pushed over the WebSocket.
    page.wait_for_function("() => { const w = parseFloat(document.getElementById('bar').style.width);"
                           " return w > 0 && w < 100; }")
    page.wait_for_function("() => document.getElementById('bar').style.width === '100%'")
    page.wait_for_function("() => document.querySelector('.status').textContent === 'succeeded'")
    assert navigations == [], "the page must update without a reload"
    assert page.inner_text("#counts") == "30 / 30"


def test_a_dead_run_retried_from_admin_succeeds(live_site, page):
    dead_id = fails_first_time.enqueue("browser").id
    wait_for(lambda: JobRun.objects.filter(pk=dead_id, status=RunStatus.DEAD).exists(), message="the dead run")
    log_in(page, live_site)
    page.goto(f"{live_site}/admin/jobs/jobrun/?status=dead")
    page.check(f"input[name=_selected_action][value='{dead_id}']")
    page.select_option("select[name=action]", "retry_runs")
    page.click("button[name=index]")
    assert "Retried 1 run(s)" in page.inner_text(".messagelist")
    retry = wait_for(lambda: JobRun.objects.filter(retry_of_id=dead_id, status=RunStatus.SUCCEEDED).first(),
                     message="the retry to succeed")
    page.goto(f"{live_site}/admin/jobs/jobrun/{retry.pk}/change/")
    assert "Succeeded" in page.inner_text(".engram-status")
    assert "browser ok" in page.content()
