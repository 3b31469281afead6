"""In a real browser: the operator pages (#16 §2) — run buttons, charts, health row, favicon, layout."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun, Schedule
from jobs.samples import echo, fails_first_time, slow_with_progress
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Every element's right edge, except those inside a box that scrolls or clips on its own.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return p.getBoundingClientRect().right <= width + 1;
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1 && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
    }
  }
  if (document.documentElement.scrollWidth > width + 1) out.push('document scrollWidth=' + document.documentElement.scrollWidth);
  return out.slice(0, 10);
}"""


def log_in(page, site, next_path="/dashboard/"):
    User.objects.create_superuser("browser", "browser@example.com", "browser-pw")
    page.goto(f"{site}/admin/login/?next={next_path}")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}{next_path}")


def test_a_run_page_cancels_a_waiting_run_and_retries_a_dead_one(live_site, page):
    dead_id = fails_first_time.enqueue("buttons").id
    wait_for(lambda: JobRun.objects.filter(pk=dead_id, status=RunStatus.DEAD).exists(), message="the dead run")
    waiting_id = echo.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("later").id
    log_in(page, live_site, f"/admin/jobs/jobrun/{waiting_id}/change/")

    # A waiting run offers Cancel only.
    assert page.locator("#run-cancel").is_visible()
    assert page.locator("#run-retry").count() == 0
    page.click("#run-cancel")
    page.wait_for_selector(".messagelist")
    assert "Cancelled run" in page.inner_text(".messagelist")
    assert JobRun.objects.get(pk=waiting_id).status == RunStatus.CANCELLED
    assert page.locator("#run-cancel").count() == 0 and page.locator("#run-retry").is_visible()

    # A dead run offers Retry and Retry with edited arguments, not Cancel.
    page.goto(f"{live_site}/admin/jobs/jobrun/{dead_id}/change/")
    assert page.locator("#run-cancel").count() == 0
    page.click("#run-retry")
    page.wait_for_url(re.compile(r".*/admin/jobs/jobrun/[0-9a-f-]+/change/$"))
    assert str(dead_id) not in page.url
    retry = wait_for(lambda: JobRun.objects.filter(retry_of_id=dead_id, status=RunStatus.SUCCEEDED).first(),
                     message="the retry to succeed")
    assert str(retry.pk) in page.url

    page.goto(f"{live_site}/admin/jobs/jobrun/{dead_id}/change/")
    page.click("#run-retry-edit")
    page.fill("#id_args", '["edited"]')
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    edited = JobRun.objects.filter(retry_of_id=dead_id, args=["edited"]).first()
    assert edited is not None


def test_the_dashboard_lists_cancel_and_retry_in_place(live_site, page):
    dead_id = fails_first_time.enqueue("dashboard").id
    wait_for(lambda: JobRun.objects.filter(pk=dead_id, status=RunStatus.DEAD).exists(), message="the dead run")
    log_in(page, live_site)
    row = page.locator(f'#failures tr[data-run="{dead_id}"]')
    row.locator("button.retry").click()
    page.wait_for_url(f"{live_site}/dashboard/")
    assert "Retried as run" in page.inner_text(".messages")
    wait_for(lambda: JobRun.objects.filter(retry_of_id=dead_id).exists(), message="the retry")

    # A run that starts after the page loaded arrives over the WebSocket with its own Cancel button.
    slow_id = slow_with_progress.enqueue(total=400, delay=0.1).id
    live_row = page.locator(f'#running tr[data-run="{slow_id}"]')
    live_row.locator("button.cancel").click()
    page.wait_for_url(f"{live_site}/dashboard/")
    wait_for(lambda: JobRun.objects.filter(pk=slow_id, status=RunStatus.CANCELLED).exists(),
             message="the running run to stop")


def test_the_dashboard_draws_live_charts_with_axes_and_the_health_row(live_site, page):
    from memory.documents.models import HealthCheck

    HealthCheck.objects.create(ok=False, results={"storage": {"ok": True, "detail": "writable"},
                                                  "workers": {"ok": False, "detail": "no live worker"}})
    log_in(page, live_site)
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("favicon.svg")
    health = page.locator(".status-row")
    assert "Documents health" in health.inner_text() and "failing" in health.inner_text()
    assert "no live worker" in health.inner_text()

    page.wait_for_function("() => window.EngramCharts && window.EngramCharts.throughput")
    axes = page.evaluate("""() => Object.fromEntries(['throughput', 'failures', 'depth'].map(k => {
        const c = window.EngramCharts[k];
        return [k, {x: c.options.scales.x.title.text, y: c.options.scales.y.title.text, n: c.data.labels.length,
                    sets: c.data.datasets.map(d => d.label)}];
    }))""")
    assert axes["throughput"]["y"] == "runs per minute" and axes["throughput"]["n"] == 60
    assert axes["failures"]["sets"] == ["dead runs", "failed attempts"]
    assert axes["depth"]["y"] == "runs waiting to start" and "time" in axes["depth"]["x"]

    # Live: a run that succeeds after the page loaded shows up in the throughput chart.
    before = page.evaluate("() => window.EngramCharts.throughput.data.datasets[0].data.reduce((a, b) => a + b, 0)")
    run_id = echo.enqueue("chart").id
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED).exists(), message="the run")
    page.wait_for_function(f"() => window.EngramCharts.throughput.data.datasets[0].data.reduce((a, b) => a + b, 0)"
                           f" > {before}", timeout=20_000)

    page.select_option("#chart-window", "24h")
    page.wait_for_function("() => window.EngramCharts.throughput.options.scales.y.title.text === 'runs per hour'")
    assert page.evaluate("() => window.EngramCharts.throughput.data.labels.length") == 24


@pytest.mark.parametrize("width", [1366, 1920])
def test_operator_pages_fit_the_screen_without_horizontal_scrolling(live_site, page, width, tmp_path):
    run_id = fails_first_time.enqueue("a long argument " * 20).id
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status=RunStatus.DEAD).exists(), message="the dead run")
    Schedule.objects.create(name="every minute", task_path="jobs.samples.noop", interval_seconds=60)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_site)
    pages = {
        "dashboard": "/dashboard/",
        "runs": "/admin/jobs/jobrun/",
        "run": f"/admin/jobs/jobrun/{run_id}/change/",
        "queues": "/admin/jobs/worker/queues/",
        "tasks": "/admin/jobs/taskpolicy/tasks/",
        "schedules": "/admin/jobs/schedule/",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(f"{live_site}{path}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
        overflowing = page.evaluate(OVERFLOWING)
        if overflowing:
            problems[name] = overflowing
    assert not problems, problems


def test_the_enqueue_form_hints_the_task_and_puts_errors_in_view(live_site, page):
    page.set_viewport_size({"width": 1366, "height": 500})
    log_in(page, live_site)
    page.select_option("#id_task", "jobs.samples.fails_first_time")
    assert page.inner_text("#task-hint .signature") == "fails_first_time(key)"
    assert "Fail the first run" in page.inner_text("#task-hint .doc")
    page.select_option("#id_task", "jobs.samples.slow_with_progress")
    assert page.inner_text("#task-hint .signature") == "slow_with_progress(total=20, delay=0.05)"

    page.fill("#id_kwargs", '{"nope": 1}')
    page.click("#enqueue button[type=submit]")
    page.wait_for_load_state()
    error = page.locator("#enqueue .errorlist")
    assert "nope" in error.inner_text()
    # The error is next to the kwargs field, inside the viewport, and the field has the focus.
    assert page.evaluate("() => document.querySelector('#enqueue .errorlist').previousElementSibling.id") == "id_kwargs"
    box = error.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 500
    assert page.evaluate("() => document.activeElement.id") == "id_kwargs"


def test_the_schedule_form_previews_fire_times_while_typing(live_site, page):
    log_in(page, live_site, "/admin/jobs/schedule/add/")
    page.select_option("#id_task_path", "jobs.samples.fails_first_time")
    assert page.inner_text("#task-hint .signature") == "fails_first_time(key)"
    page.fill("#id_cron", "30 2 * * *")
    page.fill("#id_timezone", "Asia/Tokyo")
    page.wait_for_function("() => document.querySelectorAll('.field-next_fire_times li').length === 5"
                           " && document.querySelector('.field-next_fire_times li').textContent.includes('02:30:00 JST')")
    page.fill("#id_cron", "99 * * * *")
    page.wait_for_selector(".field-next_fire_times .preview-error")
    assert "Cannot compute them" in page.inner_text(".field-next_fire_times")
    page.fill("#id_cron", "")
    page.fill("#id_interval_seconds", "90")
    page.wait_for_function("() => document.querySelectorAll('.field-next_fire_times li').length === 5")
    times = page.locator(".field-next_fire_times li .quiet").all_inner_texts()
    assert len(set(times)) == 5
    # A one-off time: one fire time.
    page.fill("#id_interval_seconds", "")
    page.fill("#id_clocked_at", "2099-01-01T10:00")
    page.wait_for_function("() => document.querySelectorAll('.field-next_fire_times li').length === 1")
    assert "2099-01-01 10:00:00 UTC" in page.inner_text(".field-next_fire_times")
    page.fill("#id_clocked_at", "")
    page.fill("#id_interval_seconds", "90")
    assert Schedule.objects.count() == 0  # nothing saved while previewing

    # Both timings: the error is a sentence, never the constraint's name.
    page.fill("#id_name", "both")
    page.fill("#id_args", '["k"]')
    page.fill("#id_cron", "* * * * *")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "Set an interval or a cron expression, not both." in page.content()
    assert "jobs_schedule_one_timing" not in page.content()


def test_bulk_retry_dead_and_empty_queue_ask_first(live_site, page):
    dead_ids = [fails_first_time.enqueue(f"bulk-{i}").id for i in range(2)]
    wait_for(lambda: JobRun.objects.filter(pk__in=dead_ids, status=RunStatus.DEAD).count() == 2, message="dead runs")
    log_in(page, live_site, "/admin/jobs/jobrun/?task=jobs.samples.fails_first_time")
    page.click("#retry-dead")
    assert "task=jobs.samples.fails_first_time" in page.url
    assert page.inner_text("#dead-count strong") == "2"
    assert not JobRun.objects.filter(retry_of_id__in=dead_ids).exists()
    page.click("#dead-confirm input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Retried 2 dead run(s)." in page.inner_text(".messagelist")
    wait_for(lambda: JobRun.objects.filter(retry_of_id__in=dead_ids, status=RunStatus.SUCCEEDED).count() == 2,
             message="the retries to succeed")

    later = [echo.using(queue_name="topics", run_after=timezone.now() + timedelta(hours=1)).enqueue(i).id
             for i in range(3)]
    page.goto(f"{live_site}/admin/jobs/worker/queues/")
    page.click("#queue-topics a.empty-queue")
    assert "cancels 3 waiting runs" in " ".join(page.inner_text("#empty-count").split())
    page.click("#empty-confirm input[type=submit]")
    page.wait_for_url(f"{live_site}/admin/jobs/worker/queues/")
    assert "cancelled 3 waiting run(s)" in page.inner_text(".messagelist")
    assert JobRun.objects.filter(pk__in=later, status=RunStatus.CANCELLED).count() == 3


def test_auto_refresh_is_opt_in_remembered_and_keeps_the_filters(live_site, page):
    log_in(page, live_site, "/admin/jobs/jobrun/?status=dead")
    loads = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    page.wait_for_timeout(11_000)
    assert loads == [], "no refresh before the operator opts in"
    page.check("#autorefresh")
    page.wait_for_timeout(12_000)
    assert loads and all(url.endswith("/admin/jobs/jobrun/?status=dead") for url in loads)
    assert page.is_checked("#autorefresh")  # remembered across the reloads
    # The sidebar's plain link comes back to the filtered list while refreshing is on.
    page.goto(f"{live_site}/admin/jobs/jobrun/")
    page.wait_for_url(f"{live_site}/admin/jobs/jobrun/?status=dead")
    page.uncheck("#autorefresh")
    count = len(loads)
    page.wait_for_timeout(11_000)
    assert len(loads) == count
