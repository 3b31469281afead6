"""The session endpoints: context and messages, with and without an LLM."""

from datetime import timedelta

import pytest
from django.utils import timezone

from memory.models import Memory, Session
from tests.memory.api_requests import post, runs_of
from tests.memory.factories import make_memory
from tests.memory.providers.test_openai_chat import ChatServer

pytestmark = pytest.mark.django_db


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
