"""In a real browser: the demo memories, enriched by a real worker, searched on the memory page."""

import pytest
from django.core.management import call_command

from jobs import RunStatus
from jobs.models import JobRun
from memory.providers.keywords import is_topic_head, phrase_key
from tests.browser.test_live_pages import log_in
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_memory_page_searches_and_shows_topics_graph_and_reflection(live_site, page):
    call_command("engram_demo")
    wait_for(lambda: JobRun.objects.count() >= 52 and not JobRun.objects.exclude(
        status__in=RunStatus.terminal()).exists(), timeout=120, message="the demo's jobs to finish")
    assert not JobRun.objects.exclude(status=RunStatus.SUCCEEDED).exists()
    log_in(page, live_site)
    page.goto(f"{live_site}/memory/")
    page.fill("input[name=q]", "backup disk full")
    page.click("#search button[type=submit]")
    first = page.inner_text("#hits li:first-child").lower()
    assert "backup" in first
    assert page.locator("#topics li").count() > 5
    # Topic names as a reader sees them: each ends in a real topic word (no "end", "percent",
    # numbers) and no two are the same phrase in another case or number.
    names = [name.strip() for name in page.locator("#topics a").all_text_contents()]  # folded ones too
    assert [name for name in names if not is_topic_head(name.split()[-1])] == []
    assert len({phrase_key(name) for name in names}) == len(names)
    page.wait_for_selector("#graph[data-ready=true]")
    assert page.evaluate("engramGraph.nodes().length") >= 5
    assert "Acme Corp" in page.evaluate("engramGraph.nodes().map(n => n.data('label'))")
    assert page.locator("article.reflection").count() == 1
