"""The JSON API's authentication: sessions, bearer tokens, CSRF and methods."""

import pytest
from django.test import Client

from memory.models import ApiToken
from tests.memory.api_requests import post
from tests.memory.factories import make_memory

pytestmark = pytest.mark.django_db


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
