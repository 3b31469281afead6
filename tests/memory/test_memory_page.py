"""The memory page: search, topic tree, entity graph and reflections, scoped to the user's workspaces."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_page_shows_search_results_topics_graph_and_a_reflection(work):
    call_command("engram_demo")
    work()
    work()
    client = Client()
    client.force_login(make_operator("viewer"))
    page = client.get(reverse("memory:page") + "?q=backup+disk+full")
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["hits"] and "backup" in page.context["hits"][0].memory.content.lower()
    assert page.context["tree"] and 'id="topics"' in html
    assert '<svg id="graph"' in html and "Acme Corp" in html
    assert page.context["reflections"] and "Suggested actions" in html


def test_a_member_sees_only_their_workspace():
    member = make_outsider("member")
    mine = make_project(make_workspace("mine", member=member), "mine")
    theirs = make_project(make_workspace("theirs"), "theirs")
    make_memory(mine, "visible note")
    make_memory(theirs, "secret note")
    client = Client()
    client.force_login(member)
    page = client.get(reverse("memory:page") + f"?project={theirs.pk}")
    assert page.context["project"] == mine
    assert "secret note" not in page.content.decode() and "visible note" in page.content.decode()
    assert Client().get(reverse("memory:page")).status_code == 302


def test_the_page_and_the_api_search_leave_expired_memories_out():
    from datetime import timedelta

    from django.utils import timezone

    member = make_outsider("member")
    project = make_project(make_workspace("mine", member=member), "mine")
    make_memory(project, "the backup volume is full", expires_at=timezone.now() - timedelta(days=1))
    make_memory(project, "the backup ran fine")
    client = Client()
    client.force_login(member)
    page = client.get(reverse("memory:page") + "?q=backup")
    assert [hit.memory.content for hit in page.context["hits"]] == ["the backup ran fine"]
    results = client.get(reverse("memory_api:search") + "?q=backup").json()["results"]
    assert [result["memory"]["content"] for result in results] == ["the backup ran fine"]
