"""In a real browser: drop several files, watch them process, read one, validate its chunks by keyboard, search."""

import base64

import pytest
from django.contrib.auth.models import User

from memory.documents.models import Document, DocumentStatus, ValidationStatus, ValidationTask
from memory.models import Membership
from tests.browser.test_live_pages import log_in
from tests.e2e.conftest import wait_for
from tests.memory.documents import samples
from tests.memory.factories import make_workspace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DROP = """(files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], f.name));
  }
  return transfer;
}"""


@pytest.fixture
def subprocess_env(subprocess_env):
    # Every OCR chunk goes to the validation queue, so the test has tasks to decide.
    return {**subprocess_env, "MEMORY_DOCUMENTS_VALIDATION_THRESHOLD": "1.0"}


def test_drop_watch_read_validate_and_search(live_site, page):
    log_in(page, live_site)
    workspace = make_workspace("team")
    Membership.objects.create(workspace=workspace, user=User.objects.get(username="browser"))
    files = [("scan.pdf", samples.scanned_pdf([samples.SENTENCE, "Restores are tested every month."])),
             ("deploy.md", samples.MARKDOWN.encode()), ("broken.pdf", samples.corrupt_pdf())]
    page.goto(f"{live_site}/documents/")
    transfer = page.evaluate_handle(DROP, [{"name": n, "data": base64.b64encode(d).decode()} for n, d in files])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.wait_for_function("() => document.querySelectorAll('#uploads tr.upload').length === 3")
    # Each row follows its document live until it is done.
    page.wait_for_function("() => Array.from(document.querySelectorAll('#uploads .state')).every(s => ['completed', 'failed'].includes(s.dataset.status))",
        timeout=90_000)
    states = {row.locator(".name").inner_text(): row.locator(".state").inner_text()
              for row in page.locator("#uploads tr.upload").all()}
    assert states["scan.pdf"].startswith("Completed · 2/2 pages")
    assert "Failed" in states["broken.pdf"] and "corrupt" in states["broken.pdf"]
    scan = Document.objects.get(original_name="scan.pdf")
    assert scan.status == DocumentStatus.COMPLETED

    page.click("#uploads a:text('scan.pdf')")
    assert page.locator("#pages img.original").count() == 2
    page.wait_for_function("() => document.querySelector('#pages img.original').naturalWidth > 0")
    assert "quarterly backup report" in page.inner_text("#pages .extracted >> nth=0").lower()
    assert page.locator("#chunks tr.chunk").count() >= 1

    wait_for(lambda: ValidationTask.objects.count() >= 2, timeout=60, message="validation tasks")
    page.goto(f"{live_site}/documents/validation/")
    page.wait_for_selector(".task.current")
    first, second = page.eval_on_selector_all(".task", "tasks => tasks.map(t => +t.dataset.id)")[:2]
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelector('.task .outcome').textContent === 'approved'")
    page.keyboard.press("c")
    page.keyboard.press("Control+a")
    page.keyboard.type("Restores are tested every single month.")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.task.done').length === 2")
    decided = ValidationTask.objects.in_bulk([first, second])
    assert decided[first].status == ValidationStatus.APPROVED
    assert decided[second].status == ValidationStatus.CORRECTED
    assert decided[second].chunk.text == "Restores are tested every single month."

    page.goto(f"{live_site}/documents/search/")
    # The correction is what search finds (whichever document the corrected chunk came from).
    page.fill("#search input[name=q]", "single")
    page.click("#search button")
    assert page.locator("#results li.result[data-kind=document] mark").first.inner_text().lower() == "single"
