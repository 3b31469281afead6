"""The JSON API: contracts, validation, tenancy, authentication and query bounds."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from jobs.models import JobRun
from memory.models import ApiToken, Decision, Entity, Layer, Memory, Relation, Session, Source, Topic
from memory.services.embedding import embed_memories
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.memory.test_openai_chat import ChatServer
from tests.users import make_outsider, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return make_outsider("member")


@pytest.fixture
def project(member):
    return make_project(make_workspace("acme", member=member))


@pytest.fixture
def foreign():
    """A project of a workspace the member does not belong to."""
    return make_project(make_workspace("globex"), slug="secret")


@pytest.fixture
def client(member):
    client = Client()
    client.force_login(member)
    return client


def post(client, url, data, method="post"):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return getattr(client, method)(url, body, content_type="application/json")


def runs_of(task_name):
    return JobRun.objects.filter(task_path__endswith=f".{task_name}")


# Authentication and CSRF

def test_an_anonymous_request_is_a_401_in_json(project):
    response = Client().get("/api/memory")
    assert response.status_code == 401
    assert "error" in response.json()


def test_a_bearer_token_authenticates_and_records_its_use(member, project):
    secret = ApiToken.issue(member, "cli")
    make_memory(project, "hello")

    response = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/memory")

    assert response.status_code == 200
    assert [m["content"] for m in response.json()["results"]] == ["hello"]
    token = ApiToken.objects.get(user=member)
    assert token.key != secret and len(token.key) == 64 and token.last_used_at is not None


def test_a_wrong_or_empty_token_is_a_401_even_with_a_session(member, project, client):
    ApiToken.issue(member, "cli")
    assert Client(headers={"Authorization": "Bearer eng_nope"}).get("/api/memory").status_code == 401
    assert client.get("/api/memory", headers={"Authorization": "Bearer "}).status_code == 401


def test_a_token_of_a_deactivated_user_is_a_401(member, project):
    secret = ApiToken.issue(member, "cli")
    member.is_active = False
    member.save()
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/memory").status_code == 401


def test_a_session_write_needs_the_csrf_token_but_a_token_write_does_not(member, project):
    session = Client(enforce_csrf_checks=True)
    session.force_login(member)
    body = {"project": project.pk, "content": "from the browser"}
    assert post(session, "/api/memory", body).status_code == 403

    secret = ApiToken.issue(member, "cli")
    tokened = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    assert post(tokened, "/api/memory", body).status_code == 201


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client):
    response = client.put("/api/memory")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


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


# GET /api/search

def test_search_ranks_the_visible_memories_with_scores_and_ranks(client, project, foreign):
    hit = make_memory(project, "We moved billing to PostgreSQL.")
    make_memory(project, "Lunch was pizza again.")
    make_memory(foreign, "PostgreSQL billing secrets.")
    embed_memories(list(Memory.objects.values_list("pk", flat=True)))

    response = client.get("/api/search", {"q": "postgresql billing", "project": project.pk, "limit": 5})

    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["memory"]["id"] == hit.pk
    assert results[0]["ranks"] == {"text": 1, "vector": 1} and results[0]["score"] > 0
    assert results[0]["memory"]["embedded"] is True
    assert {r["memory"]["project"] for r in results} == {project.pk}


@pytest.mark.parametrize("params, field", [({}, "q"), ({"q": "  "}, "q"), ({"q": "x", "limit": 51}, "limit")])
def test_bad_search_parameters_are_400(client, project, params, field):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


# GET /api/topics/tree

def test_the_topic_tree_is_nested_in_one_query(client, project, foreign, django_assert_max_num_queries):
    def topic(name, parent=None, where=project):
        return Topic.objects.create(workspace=where.workspace, project=where, name=name, parent=parent)

    data = topic("data")
    postgres = topic("postgres", data)
    topic("indexes", postgres)
    topic("people")
    topic("hidden", where=foreign)

    client.get("/api/memory")
    with django_assert_max_num_queries(4):
        response = client.get("/api/topics/tree", {"project": project.pk})

    assert response.status_code == 200
    tree = response.json()["results"]
    assert [(t["name"], t["depth"]) for t in tree] == [("data", 0), ("people", 0)]
    assert tree[0]["children"][0]["name"] == "postgres"
    assert tree[0]["children"][0]["children"][0]["name"] == "indexes"
    assert tree[1]["children"] == []


# GET /api/graph

def entity(project, name, **fields):
    return Entity.objects.create(workspace=project.workspace, project=project, name=name,
                                 normalized_name=name.lower(), **fields)


def relate(subject, obj, predicate="knows"):
    return Relation.objects.create(workspace=subject.workspace, project=subject.project, subject=subject,
                                   object=obj, predicate=predicate)


def test_the_graph_has_the_most_connected_canonical_entities_and_their_edges(client, project, foreign):
    hub, a, b, c, lone = (entity(project, name) for name in ("Hub", "A", "B", "C", "Lone"))
    entity(project, "Hub Inc", canonical=hub)
    edges = [relate(hub, a), relate(b, hub), relate(a, b), relate(hub, c)]
    entity(foreign, "Theirs")

    body = client.get("/api/graph", {"project": project.pk}).json()

    assert [(n["name"], n["degree"]) for n in body["nodes"]] == [("Hub", 3), ("A", 2), ("B", 2), ("C", 1), ("Lone", 0)]
    assert {e["id"] for e in body["edges"]} == {e.pk for e in edges}

    top = client.get("/api/graph", {"limit": 2}).json()
    assert [n["name"] for n in top["nodes"]] == ["Hub", "A"]
    assert [(e["source"], e["target"], e["predicate"]) for e in top["edges"]] == [(hub.pk, a.pk, "knows")]


def test_a_graph_limit_over_500_is_400(client, project):
    response = client.get("/api/graph", {"limit": 501})
    assert response.status_code == 400
    assert "limit" in response.json()["errors"]


# /api/sessions/<id>/...

@pytest.fixture
def session(project, member):
    return Session.objects.create(workspace=project.workspace, project=project, user=member)


def test_a_session_context_is_built_then_served_from_the_cache(client, project, session):
    make_memory(project, "The deploy runbook lives in the wiki.")

    first = client.get(f"/api/sessions/{session.pk}/context").json()
    make_memory(project, "A newer memory.")
    second = client.get(f"/api/sessions/{session.pk}/context").json()

    assert [m["content"] for m in first["context"]["memories"]] == ["The deploy runbook lives in the wiki."]
    assert second == first  # still fresh
    Session.objects.filter(pk=session.pk).update(context_cached_at=timezone.now() - timedelta(minutes=6))
    third = client.get(f"/api/sessions/{session.pk}/context").json()
    assert [m["content"] for m in third["context"]["memories"]][0] == "A newer memory."


@pytest.mark.django_db(transaction=True)
def test_posting_a_message_stores_it_and_returns_the_relevant_context(client, project, session):
    runbook = make_memory(project, "The deploy runbook lives in the wiki.")
    make_memory(project, "Lunch was pizza.")
    before = session.last_active_at

    response = post(client, f"/api/sessions/{session.pk}/messages", {"content": "Where is the deploy runbook?"})

    assert response.status_code == 201
    body = response.json()
    assert "reply" not in body
    message = Memory.objects.get(pk=body["message"]["id"])
    assert (message.source, message.layer, message.metadata) == ("message", "episodic", {"session": session.pk})
    assert body["context"]["memories"][0]["id"] == runbook.pk
    assert message.pk not in {m["id"] for m in body["context"]["memories"]}
    session.refresh_from_db()
    assert session.last_active_at > before and session.context_cache == body["context"]
    assert runs_of("update_embeddings").filter(args=[message.pk]).exists()


@pytest.fixture
def llm_server(settings):
    """An OpenAI-compatible chat server on loopback, configured as the LLM provider."""
    server = ChatServer()
    settings.MEMORY_LLM_PROVIDER = "openai"
    settings.MEMORY_LLM_URL = server.url
    settings.MEMORY_LLM_TIMEOUT_SECONDS = 5
    yield server
    server.close()


def test_with_a_remote_llm_a_message_gets_an_answer_from_the_context(client, project, session, llm_server):
    runbook = make_memory(project, "The deploy runbook lives in the wiki.")
    llm_server.answer({"answer": "The runbook is in the wiki.", "source_indexes": [0]})

    response = post(client, f"/api/sessions/{session.pk}/messages", {"content": "Where is the deploy runbook?"})

    assert response.status_code == 201
    body = response.json()
    assert body["reply"] == "The runbook is in the wiki."
    assert body["reply_memory_ids"] == [runbook.pk] and "reply_error" not in body
    [request] = llm_server.requests
    system, user = request["body"]["messages"]
    assert "only from the numbered passages" in system["content"]
    assert "Question: Where is the deploy runbook?" in user["content"]
    assert "[0] The deploy runbook lives in the wiki." in user["content"]


def test_a_failing_llm_costs_the_reply_but_not_the_message(client, project, session, llm_server):
    make_memory(project, "The deploy runbook lives in the wiki.")
    llm_server.respond(500, {"error": {"message": "model not loaded"}})

    response = post(client, f"/api/sessions/{session.pk}/messages", {"content": "Where is the deploy runbook?"})

    assert response.status_code == 201
    body = response.json()
    assert "reply" not in body
    assert "HTTP 500: model not loaded" in body["reply_error"]
    assert Memory.objects.get(pk=body["message"]["id"]).content == "Where is the deploy runbook?"
    assert [m["content"] for m in body["context"]["memories"]] == ["The deploy runbook lives in the wiki."]


def test_a_message_needs_content(client, session):
    response = post(client, f"/api/sessions/{session.pk}/messages", {})
    assert response.status_code == 400
    assert "content" in response.json()["errors"]


@pytest.mark.parametrize("suffix, method", [("context", "get"), ("messages", "post")])
def test_a_session_of_another_workspace_is_a_404(client, foreign, suffix, method):
    theirs = Session.objects.create(workspace=foreign.workspace, project=foreign)
    response = post(client, f"/api/sessions/{theirs.pk}/{suffix}", {"content": "hi"}, method=method)
    assert response.status_code == 404
    assert not Memory.objects.exists()


# POST /api/decisions

@pytest.mark.django_db(transaction=True)
def test_posting_a_decision_records_it_and_enqueues_its_analysis(client, member, project):
    response = post(client, "/api/decisions", {
        "project": project.pk, "title": "Store memories in Postgres", "options": ["Postgres", "Qdrant"],
        "chosen": "Postgres", "rationale": "We already run it.",
    })

    assert response.status_code == 201
    body = response.json()
    decision = Decision.objects.get(pk=body["id"])
    assert decision.owner == member and decision.options == ["Postgres", "Qdrant"]
    assert body["quality_score"] is None and body["options"] == ["Postgres", "Qdrant"]
    assert runs_of("analyze_decision").filter(args=[decision.pk]).exists()


@pytest.mark.parametrize("body, field", [
    ({"project": "P"}, "title"), ({"project": "P", "title": "t", "options": "Postgres"}, "options"),
    ({"project": "P", "title": "t", "options": ["", "x"]}, "options"), ({"project": "F", "title": "t"}, "project"),
    ({"project": "P", "title": "t", "owner": 1}, "owner"),
])
def test_bad_decisions_are_400_with_field_errors(client, project, foreign, body, field):
    body = {k: {"P": project.pk, "F": foreign.pk}.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = post(client, "/api/decisions", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Decision.objects.exists()
