"""In a real browser: no page breaks the Content-Security-Policy (no inline script anywhere)."""

import pytest
from django.contrib.auth.models import User

from jobs.samples import returns_42
from tests.e2e.conftest import wait_for
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_no_page_violates_the_content_security_policy(live_site, page):
    from jobs.models import JobRun

    user = User.objects.create_superuser("browser", "browser@example.com", "browser-pw")
    make_memory(make_project(make_workspace("acme", member=user)), "The launch is on Friday.")
    run_id = returns_42.enqueue().id
    wait_for(lambda: JobRun.objects.filter(pk=run_id, status="succeeded").exists(), message="the run")
    violations, headers = [], []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.on("response", lambda response: headers.append(response.headers.get("content-security-policy"))
            if response.request.resource_type == "document" else None)

    page.goto(f"{live_site}/accounts/login/")
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_site}/dashboard/")
    pages = ["/dashboard/", f"/runs/{run_id}/", "/memory/", "/memory/?q=launch", "/admin/",
             "/admin/jobs/jobrun/", f"/admin/jobs/jobrun/{run_id}/change/", "/admin/jobs/worker/queues/",
             "/admin/jobs/taskpolicy/tasks/", "/admin/jobs/schedule/add/", "/admin/memory/memory/",
             "/accounts/password_change/"]
    for path in pages:
        page.goto(f"{live_site}{path}")
        page.wait_for_load_state("networkidle")
    assert all(header and "script-src 'self'" in header for header in headers), headers
    print(f"\nCSP: {len(pages) + 1} pages loaded, {len(violations)} violations")
    assert violations == []
