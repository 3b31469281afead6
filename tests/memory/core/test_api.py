"""The memory endpoints: contracts, validation, tenancy and query bounds."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from memory.models import Layer, Memory, Source
from tests.memory.api_requests import post, runs_of
from tests.memory.factories import make_memory, make_project
from tests.users import make_staff

pytestmark = pytest.mark.django_db


# GET /api/memory

def test_the_list_is_newest_first_and_never_shows_the_embedding(client, project, foreign):
    now = timezone.now()
    old = make_memory(project, "old", created_at=now - timedelta(days=1), embedding=[0.1] * 384)
    new = make_memory(project, "new", created_at=now)
    make_memory(foreign, "not yours")

    response = client.get("/api/memory")

    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body["results"]] == [new.pk, old.pk]
    assert body["next"] is None
    first = body["results"][0]
    assert "embedding" not in first and "search_vector" not in first
    assert [m["embedded"] for m in body["results"]] == [False, True]
    assert set(first) >= {"id", "project", "content", "layer", "source", "importance", "strength",
                          "access_count", "created_at", "metadata"}


def test_the_list_filters_by_project_layer_source_and_dates(client, member, project):
    other = make_project(project.workspace, slug="other")
    now = timezone.now()
    a = make_memory(project, "a", layer=Layer.SEMANTIC, source=Source.NOTE, created_at=now - timedelta(days=3))
    b = make_memory(project, "b", layer=Layer.EPISODIC, source=Source.MESSAGE, created_at=now - timedelta(days=2))
    c = make_memory(other, "c", layer=Layer.EPISODIC, source=Source.NOTE, created_at=now - timedelta(days=1))

    def ids(**params):
        response = client.get("/api/memory", params)
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["results"]]

    assert ids(project=project.pk) == [b.pk, a.pk]
    assert ids(layer="episodic") == [c.pk, b.pk]
    assert ids(source="note") == [c.pk, a.pk]
    assert ids(created_after=(now - timedelta(days=2, hours=12)).isoformat()) == [c.pk, b.pk]
    assert ids(created_before=(now - timedelta(days=1, hours=12)).isoformat()) == [b.pk, a.pk]


def test_the_list_pages_by_cursor_through_equal_timestamps(client, project):
    same = timezone.now()
    made = [make_memory(project, f"m{i}", created_at=same) for i in range(5)]

    seen, url = [], "/api/memory?limit=2"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [m["id"] for m in body["results"]]
        url = body["next"]

    assert seen == sorted((m.pk for m in made), reverse=True)


@pytest.mark.parametrize("params, field", [
    ({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"layer": "dream"}, "layer"),
    ({"created_after": "yesterday"}, "created_after"), ({"cursor": "@@"}, "cursor"), ({"colour": "red"}, "colour"),
])
def test_bad_list_parameters_are_400_with_field_errors(client, project, params, field):
    response = client.get("/api/memory", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_project_filter_of_another_workspace_finds_nothing(client, project, foreign):
    response = client.get("/api/memory", {"project": foreign.pk})
    assert response.status_code == 400
    assert "project" in response.json()["errors"]


def test_the_list_takes_a_bounded_number_of_queries(client, project, django_assert_max_num_queries):
    for i in range(30):
        make_memory(project, f"memory {i}")
    client.get("/api/memory")  # warm the session
    # session + user + the page; + the project check when filtered
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/memory?limit=25").json()["results"]) == 25
    with django_assert_max_num_queries(4):
        assert len(client.get(f"/api/memory?limit=25&project={project.pk}").json()["results"]) == 25


def test_staff_status_alone_sees_no_workspace_but_a_superuser_sees_every_one(project, foreign):
    # Issue 11: is_staff opens the admin site, not other workspaces' memories.
    make_memory(foreign, "theirs")
    staff = Client()
    staff.force_login(make_staff())
    assert staff.get("/api/memory").json()["results"] == []
    superuser = Client()
    superuser.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    assert [m["content"] for m in superuser.get("/api/memory").json()["results"]] == ["theirs"]


# POST /api/memory

@pytest.mark.django_db(transaction=True)
def test_posting_a_memory_records_it_and_enqueues_its_enrichment(client, project):
    response = post(client, "/api/memory", {"project": project.pk, "content": "  We chose Postgres.  ",
                                            "importance": 0.9, "metadata": {"by": "alice"}})

    assert response.status_code == 201
    body = response.json()
    memory = Memory.objects.get(pk=body["id"])
    assert (memory.content, memory.source, memory.layer) == ("We chose Postgres.", "api", "episodic")
    assert body["importance"] == 0.9 and body["metadata"] == {"by": "alice"} and body["embedded"] is False
    assert runs_of("extract_topics").filter(args=[memory.pk]).exists()
    assert runs_of("update_embeddings").filter(args=[memory.pk]).exists()


@pytest.mark.parametrize("body, field", [
    ({"project": "P"}, "content"),
    ({"project": "P", "content": "   "}, "content"),
    ({"project": 999999, "content": "x"}, "project"),
    ({"content": "x"}, "project"),
    ({"project": "P", "content": "x", "layer": "dream"}, "layer"),
    ({"project": "P", "content": "x", "source": "telepathy"}, "source"),
    ({"project": "P", "content": "x", "importance": 2}, "importance"),
    ({"project": "P", "content": "x", "metadata": [1, 2]}, "metadata"),
    ({"project": "P", "content": ["x"]}, "content"),
    ({"project": "P", "content": "x", "colour": "red"}, "colour"),
])
def test_bad_memory_input_is_400_with_field_errors(client, project, body, field):
    body = {k: (project.pk if v == "P" else v) for k, v in body.items()}
    response = post(client, "/api/memory", body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Memory.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(client, project, raw):
    response = post(client, "/api/memory", raw)
    assert response.status_code == 400
    assert "__all__" in response.json()["errors"]


def test_a_memory_cannot_be_posted_into_another_workspace(client, foreign):
    response = post(client, "/api/memory", {"project": foreign.pk, "content": "sneaky"})
    assert response.status_code == 400
    assert "project" in response.json()["errors"]
    assert not Memory.objects.exists()


# GET / PATCH / DELETE /api/memory/<id>

def test_reading_a_memory_counts_the_access(client, project):
    memory = make_memory(project, "read me")

    first = client.get(f"/api/memory/{memory.pk}").json()
    second = client.get(f"/api/memory/{memory.pk}").json()

    assert (first["access_count"], second["access_count"]) == (1, 2)
    memory.refresh_from_db()
    assert memory.access_count == 2 and memory.last_accessed_at is not None


@pytest.mark.django_db(transaction=True)
def test_patching_a_memory_changes_it_and_re_enriches_new_content(client, project):
    memory = make_memory(project, "draft")

    response = post(client, f"/api/memory/{memory.pk}", {"content": "final", "strength": 0.4,
                                                        "metadata": {}, "expires_at": None}, method="patch")

    assert response.status_code == 200, response.json()
    assert (response.json()["content"], response.json()["strength"]) == ("final", 0.4)
    memory.refresh_from_db()
    assert (memory.content, memory.strength, memory.metadata) == ("final", 0.4, {})
    assert runs_of("update_embeddings").filter(args=[memory.pk]).exists()


@pytest.mark.parametrize("body, field", [
    ({"content": ""}, "content"), ({"layer": None}, "layer"), ({"strength": -0.1}, "strength"),
    ({"expires_at": "soon"}, "expires_at"), ({"source": "note"}, "source"),
])
def test_bad_patches_are_400_with_field_errors(client, project, body, field):
    memory = make_memory(project, "keep")
    response = post(client, f"/api/memory/{memory.pk}", body, method="patch")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    memory.refresh_from_db()
    assert memory.content == "keep"


def test_deleting_a_memory_is_a_204(client, project):
    memory = make_memory(project, "bye")
    assert client.delete(f"/api/memory/{memory.pk}").status_code == 204
    assert not Memory.objects.exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_memory_of_another_workspace_is_a_404(client, project, foreign, method):
    memory = make_memory(foreign, "theirs")
    response = post(client, f"/api/memory/{memory.pk}", {"content": "mine"}, method=method)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
    memory.refresh_from_db()
    assert (memory.content, memory.access_count) == ("theirs", 0)
