"""The memory page: filters, pages, scored search results and the topic tree, scoped to the user's workspaces."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from memory.core.recording import record_memory
from memory.models import Layer, Topic
from memory.pages.listing import PAGE_SIZE
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider

pytestmark = pytest.mark.django_db(transaction=True)


def page_of(client, **params):
    return client.get(reverse("memory:page"), params)


def test_the_page_shows_scored_linked_results_topics_the_graph_and_a_reflection(work):
    call_command("engram_demo")
    work()
    work()
    client = Client()
    client.force_login(make_operator("viewer"))
    page = page_of(client, q="backup disk full")
    html = page.content.decode()
    assert page.status_code == 200
    best = page.context["strong"][0]
    assert "backup" in best["memory"].content.lower() and best["relative"] == 1.0
    assert f'href="{reverse("memory:detail", args=[best["memory"].pk])}"' in html
    assert f"score {best['score']:.3f}" in html
    assert "<mark>backup</mark>" in html.lower()
    assert page.context["tree"] and 'id="topics"' in html
    assert 'id="graph"' in html and "cytoscape-3.35.0.min.js" in html
    assert page.context["reflections"] and "Suggested actions" in html


def test_a_member_sees_only_their_workspace():
    member = make_outsider("member")
    mine = make_project(make_workspace("mine", member=member), "mine")
    theirs = make_project(make_workspace("theirs"), "theirs")
    make_memory(mine, "visible note")
    make_memory(theirs, "secret note")
    client = Client()
    client.force_login(member)
    page = page_of(client, project=theirs.pk)
    assert page.context["project"] == mine
    assert "secret note" not in page.content.decode() and "visible note" in page.content.decode()
    assert Client().get(reverse("memory:page")).status_code == 302


def test_the_page_and_the_api_search_leave_expired_memories_out(client, project):
    make_memory(project, "the backup volume is full", expires_at=timezone.now() - timedelta(days=1))
    make_memory(project, "the backup ran fine")
    page = page_of(client, q="backup")
    assert [result["memory"].content for result in page.context["strong"] + page.context["weak"]] == [
        "the backup ran fine"]
    results = client.get(reverse("memory_api:search") + "?q=backup").json()["results"]
    assert [result["memory"]["content"] for result in results] == ["the backup ran fine"]


def test_results_below_half_the_best_score_are_folded_behind_weaker_matches(client, project, work):
    record_memory(project, "postgres backup failed: postgres backup disk full, backup aborted")
    for text in ("lunch was nice", "the disk is fine", "we met on Friday", "the office plants need water"):
        record_memory(project, text)
    work()  # embeds them: the vector ranking finds the weak matches
    page = page_of(client, q="postgres backup")
    strong, weak = page.context["strong"], page.context["weak"]
    assert strong[0]["memory"].content.startswith("postgres backup failed")
    assert all(result["relative"] >= 0.5 for result in strong)
    assert weak and all(result["relative"] < 0.5 for result in weak)
    html = page.content.decode()
    assert html.index("Show weaker matches") > html.index("postgres</mark> <mark>backup</mark> failed")


def test_filters_by_kind_topic_and_inclusive_date_range(client, project):
    day = datetime(2026, 5, 8, 12, tzinfo=UTC)
    old = make_memory(project, "old episodic", created_at=day - timedelta(days=10))
    first = make_memory(project, "on the first day", created_at=day)
    last = make_memory(project, "on the last day", created_at=day + timedelta(days=2, hours=11))
    semantic = make_memory(project, "a semantic fact", created_at=day + timedelta(days=1), layer=Layer.SEMANTIC)
    parent = Topic.objects.create(workspace=project.workspace, project=project, name="infra")
    child = Topic.objects.create(workspace=project.workspace, project=project, name="disks", parent=parent)
    old.topics.add(parent)
    first.topics.add(child)

    def listed(**params):
        return [item["memory"] for item in page_of(client, project=project.pk, **params).context["listed"]]

    assert listed(kind="semantic") == [semantic]
    assert listed(since="2026-05-08", until="2026-05-10") == [last, semantic, first]
    assert listed(since="2026-05-08", until="2026-05-10", kind="episodic") == [last, first]
    assert listed(topic=parent.pk) == [first, old]  # the topic with its subtopics
    assert listed(topic=child.pk) == [first]


def test_bad_filters_are_explained_next_to_their_field_and_never_crash(client, project, foreign):
    foreign_topic = Topic.objects.create(workspace=foreign.workspace, project=foreign, name="secret")
    page = page_of(client, since="2026-02-30", until="yesterday", kind="nonsense", topic=foreign_topic.pk)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert set(errors) == {"since", "until", "kind", "topic"}
    html = page.content.decode()
    since = html.index('id="field-since"')
    assert since < html.index("Enter a valid date.", since) < html.index('id="field-until"')
    reversed_range = page_of(client, since="2026-05-09", until="2026-05-01")
    assert "The end of the range comes before its start." in reversed_range.content.decode()


def test_pages_hold_twenty_and_keep_the_filters_in_their_links(client, project):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(PAGE_SIZE + 5):
        make_memory(project, f"note number {n}", created_at=start + timedelta(minutes=n), layer=Layer.SEMANTIC)
    make_memory(project, "episodic one", created_at=start)
    first = page_of(client, project=project.pk, kind="semantic")
    assert len(first.context["listed"]) == PAGE_SIZE
    html = first.content.decode()
    assert f'href="?project={project.pk}&amp;kind=semantic&amp;page=2"' in html
    second = page_of(client, project=project.pk, kind="semantic", page=2)
    assert [item["memory"].content for item in second.context["listed"]] == [
        f"note number {n}" for n in range(4, -1, -1)]
    assert page_of(client, project=project.pk, page="x").context["page"].number == 1
    assert page_of(client, project=project.pk, page="99999999999999999999").context["page"].number == 2


def test_the_topic_tree_folds_branches_and_links_each_topic_as_a_filter(client, project):
    parent = Topic.objects.create(workspace=project.workspace, project=project, name="infra")
    Topic.objects.create(workspace=project.workspace, project=project, name="disks", parent=parent)
    html = page_of(client, project=project.pk).content.decode()
    assert f'<details data-topic="{parent.pk}"><summary><a href="?project={project.pk}&amp;topic={parent.pk}"' in html
    assert ">disks</a></li>" in html


def test_search_applies_the_kind_topic_and_date_filters(client, project):
    day = datetime(2026, 5, 8, 12, tzinfo=UTC)
    semantic = make_memory(project, "the backup runs nightly", layer=Layer.SEMANTIC, created_at=day)
    make_memory(project, "the backup failed", created_at=day)
    make_memory(project, "an old backup note", layer=Layer.SEMANTIC, created_at=day - timedelta(days=40))
    topic = Topic.objects.create(workspace=project.workspace, project=project, name="backups")
    semantic.topics.add(topic)

    def found(**params):
        context = page_of(client, project=project.pk, q="backup", **params).context
        return [result["memory"] for result in context["strong"] + context["weak"]]

    assert len(found()) == 3
    assert found(kind="semantic", since="2026-05-01") == [semantic]
    assert found(topic=topic.pk) == [semantic]
