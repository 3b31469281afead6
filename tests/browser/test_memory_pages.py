"""In a real browser at 1366x768: a member's notes, the filters and pages, scored search and the entity graph."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from memory.core.recording import record_memory
from memory.models import Entity, Layer, Membership, Memory, Relation, Topic
from tests.e2e.conftest import wait_for
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
# Elements whose right edge passes the viewport (the page would scroll sideways), by tag#id.class.
OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 1;
}).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def sign_in(page, site, role=Membership.Role.MEMBER):
    """A user with `role` in workspace Acme (two projects), signed in; return (user, first, second project)."""
    user = User.objects.create_user("ann", "ann@example.com", "ann-pw")
    workspace = make_workspace("acme")
    Membership.objects.create(workspace=workspace, user=user, role=role)
    first, second = make_project(workspace, "main"), make_project(workspace, "ops")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(f"{site}/accounts/login/?next=/memory/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "ann-pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/memory/")
    return user, first, second


def watch_errors(page):
    """Console errors, uncaught exceptions and failed loads (a CSP violation is reported as a console error).

    The favicon is left out: the browser asks for one on every page and another part of #16 adds it.
    """
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    return errors


def assert_fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.evaluate(OVERFLOWING) == []


def test_a_member_writes_edits_and_deletes_a_note_and_errors_show_beside_the_field(live_site, page):
    errors = watch_errors(page)
    _, main, ops = sign_in(page, live_site)
    assert_fits(page)
    page.select_option("#new-note #id_project", str(ops.pk))
    page.select_option("#new-note #id_kind", "semantic")
    page.fill("#new-note #id_content", "The NAS backs up <nightly> at 02:00")
    page.fill("#new-note #id_tags", "backup, " + "t" * 51)
    page.click("#new-note button[type=submit]")
    # Refused: the error sits right under the tags field, in view, and the typed text is kept.
    error = page.locator("#field-tags .field-error")
    assert error.inner_text() == "A tag is at most 50 characters."
    box = error.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= HEIGHT and box["x"] + box["width"] <= WIDTH
    assert page.input_value("#id_content") == "The NAS backs up <nightly> at 02:00"
    page.fill("#id_tags", "backup, nas")
    page.click("#new-note button[type=submit]")
    page.wait_for_url(re.compile(r".*/memory/\d+/$"))
    memory = Memory.objects.get()
    assert (memory.project, memory.layer, memory.metadata) == (ops, Layer.SEMANTIC, {"tags": ["backup", "nas"]})
    assert page.inner_text("#memory .memory-body") == "The NAS backs up <nightly> at 02:00"
    assert_fits(page)

    page.fill("#edit-note #id_content", "The NAS backs up at 03:00")
    page.select_option("#edit-note #id_kind", "working")
    page.click("#edit-note button[type=submit]")
    page.wait_for_selector("text=Note updated.")
    memory.refresh_from_db()
    assert (memory.content, memory.layer) == ("The NAS backs up at 03:00", Layer.WORKING)

    page.click("#delete-link")
    page.wait_for_selector("text=Delete this memory?")
    assert Memory.objects.filter(pk=memory.pk).exists()  # asking deletes nothing
    page.click("#confirm-delete button[type=submit]")
    page.wait_for_url(f"{live_site}/memory/?project={ops.pk}")
    assert page.inner_text("ul.messages") == "Note deleted."
    assert not Memory.objects.filter(pk=memory.pk).exists()
    assert errors == []


def test_a_viewer_sees_no_note_form_and_no_edit_controls(live_site, page):
    _, main, _ = sign_in(page, live_site, role=Membership.Role.VIEWER)
    memory = make_memory(main, "read only")
    page.goto(f"{live_site}/memory/?project={main.pk}")
    assert page.locator("#new-note").count() == 0
    page.click(f"a[href='/memory/{memory.pk}/']")
    assert page.locator("#edit-note").count() == 0 and page.locator("#delete-link").count() == 0


def test_filters_and_pages_keep_each_other_and_the_topic_tree_remembers_what_is_open(live_site, page):
    errors = watch_errors(page)
    _, main, _ = sign_in(page, live_site)
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for n in range(25):
        make_memory(main, f"semantic note {n}", layer=Layer.SEMANTIC, created_at=start + timedelta(hours=n))
    make_memory(main, "an episodic note", created_at=start)
    make_memory(main, "a later semantic note", layer=Layer.SEMANTIC, created_at=start + timedelta(days=30))
    infra = Topic.objects.create(workspace=main.workspace, project=main, name="infra")
    disks = Topic.objects.create(workspace=main.workspace, project=main, name="disks", parent=infra)
    Memory.objects.get(content="semantic note 3").topics.add(disks)

    page.goto(f"{live_site}/memory/?project={main.pk}")
    page.select_option("#id_kind", "semantic")
    page.fill("#id_since", "2026-03-01")
    page.fill("#id_until", "2026-03-02")
    page.click("#search button[type=submit]")
    assert page.inner_text("#listing h2") == "Memories (25)"
    assert page.inner_text(".pager span") == "Page 1 of 2"
    page.click(".pager a[rel=next]")
    assert "Page 2 of 2" in page.inner_text(".pager")
    query = page.url.split("?", 1)[1]
    assert {"kind=semantic", "since=2026-03-01", "until=2026-03-02", "page=2"} <= set(query.split("&"))
    assert page.locator("#listing li.memory").count() == 5
    assert page.input_value("#id_kind") == "semantic"  # the form shows the filters in force
    assert_fits(page)

    # A bad date is explained next to its field; the page still answers.
    page.fill("#id_until", "2026-02-01")
    page.click("#search button[type=submit]")
    assert page.inner_text("#field-until .field-error") == "The end of the range comes before its start."

    # The tree folds; a branch opened stays open on the next visit.
    page.goto(f"{live_site}/memory/?project={main.pk}")
    branch = page.locator(f"#topics details[data-topic='{infra.pk}']")
    assert not branch.evaluate("d => d.open") and not page.locator("#topics a", has_text="disks").is_visible()
    branch.locator("summary").click(position={"x": 2, "y": 5})  # the marker, not the topic's link
    assert page.locator("#topics a", has_text="disks").is_visible()
    page.reload()
    assert page.locator(f"#topics details[data-topic='{infra.pk}']").evaluate("d => d.open")
    page.click("#topics a:text-is('disks')")
    assert page.locator("#listing li.memory").all_inner_texts()[0].startswith("semantic note 3")
    assert page.locator("#listing li.memory").count() == 1
    assert errors == []


def test_search_shows_scores_marks_matched_words_folds_weak_matches_and_links_each_result(live_site, page):
    errors = watch_errors(page)
    _, main, _ = sign_in(page, live_site)
    best = record_memory(main, "postgres backup failed: the <b>backup</b> disk is full")
    for text in ("lunch was nice", "we met on Friday", "the office plants need water"):
        record_memory(main, text)
    wait_for(lambda: not Memory.objects.filter(embedding__isnull=True).exists(), timeout=120,
             message="the worker to embed the memories")
    page.goto(f"{live_site}/memory/?project={main.pk}")
    page.fill("#id_q", "backup")
    page.click("#search button[type=submit]")
    first = page.locator("#hits li.result").first
    assert re.fullmatch(r"score \d\.\d{3}", first.locator(".score").inner_text())
    assert first.locator("mark").all_inner_texts() == ["backup", "backup"]
    assert first.locator("a.memory-link").inner_text() == "postgres backup failed: the <b>backup</b> disk is full"
    weaker = page.locator("#weaker")
    assert weaker.locator("summary").inner_text().startswith("Show weaker matches")
    assert not weaker.locator("li.result").first.is_visible()
    weaker.locator("summary").click()
    assert weaker.locator("li.result").first.is_visible()
    assert_fits(page)
    first.locator("a.memory-link").click()
    page.wait_for_url(f"{live_site}/memory/{best.pk}/")
    assert errors == []


def test_the_entity_graph_zooms_drags_and_lists_a_clicked_entity_s_memories(live_site, page):
    errors = watch_errors(page)
    _, main, ops = sign_in(page, live_site)
    names = ["Acme", "Friday", "Ann", "Bob", "Berlin", "NAS"]
    entities = {name: Entity.objects.create(workspace=ops.workspace, project=ops, name=name,
                                            normalized_name=name.lower()) for name in names}
    said = make_memory(ops, "Acme ships on Friday")
    for subject, predicate, target in [("Acme", "ships on", "Friday"), ("Ann", "works at", "Acme"),
                                       ("Bob", "works at", "Acme"), ("Ann", "lives in", "Berlin"),
                                       ("Bob", "runs", "NAS")]:
        Relation.objects.create(workspace=ops.workspace, project=ops, subject=entities[subject],
                                object=entities[target], predicate=predicate,
                                source_memory=said if subject == "Acme" else None)
    page.goto(f"{live_site}/memory/?project={ops.pk}")
    page.wait_for_selector("#graph[data-ready=true]")
    assert sorted(page.evaluate("engramGraph.nodes().map(n => n.data('label'))")) == sorted(names)
    assert page.evaluate("engramGraph.edges().length") == 5
    assert_fits(page)

    page.locator("#graph").scroll_into_view_if_needed()
    # cytoscape leaves the wheel to the page for 250 ms after the page scrolled.
    page.wait_for_timeout(500)
    box = page.locator("#graph").bounding_box()
    zoom = page.evaluate("engramGraph.zoom()")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_function("zoom => window.engramGraph.zoom() > zoom", arg=zoom)

    def on_screen(name):
        point = page.evaluate(f"engramGraph.nodes().filter(n => n.data('label') === '{name}').renderedPosition()")
        return box["x"] + point["x"], box["y"] + point["y"]

    page.evaluate("engramGraph.fit(undefined, 40)")
    before = page.evaluate("engramGraph.nodes().filter(n => n.data('label') === 'NAS').position()")
    x, y = on_screen("NAS")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=8)
    page.mouse.up()
    after = page.evaluate("engramGraph.nodes().filter(n => n.data('label') === 'NAS').position()")
    assert after != before

    x, y = on_screen("Friday")
    page.mouse.click(x, y)
    page.wait_for_selector("#entity-memories li")
    assert page.inner_text("#entity-panel h3") == "Friday"
    assert page.locator("#entity-memories a").inner_text() == "Acme ships on Friday"
    assert page.locator("#entity-memories a").get_attribute("href") == f"/memory/{said.pk}/"
    # The entity's own project (not the workspace's first one).
    assert page.locator("a.entity-project").get_attribute("href") == f"/memory/?project={ops.pk}"
    page.click("#entity-memories a")
    page.wait_for_url(f"{live_site}/memory/{said.pk}/")
    assert errors == []
