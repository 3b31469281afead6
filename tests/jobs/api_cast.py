"""The cast of the run API's tests (test_api_access, test_api_runs, test_api_enqueue): each role as a
client, by session or by token, and the JSON POST they send.
"""

import json

import pytest
from django.test import Client

from memory.models import ApiToken
from tests.users import make_operator, make_outsider, make_staff


committed = pytest.mark.django_db(transaction=True)

ROLES = ["anonymous", "outsider", "staff", "viewer", "operator", "viewer_token", "operator_token", "bad_token"]


class Cast(dict):
    """The shared cast, each user made on first use (password hashing makes a user cost ~0.5 s)."""

    MAKERS = {
        "outsider": make_outsider,
        "staff": lambda: make_staff("staff"),
        "viewer": lambda: make_staff("viewer", perms=["jobs.view_jobrun"]),
        "operator": make_operator,
    }

    def __missing__(self, role):
        user = self[role] = self.MAKERS[role]()
        return user


@pytest.fixture
def cast():
    return Cast()


def client_for(role, cast):
    """A client acting as `role`: a session login, a bearer token, or nobody."""
    if role == "anonymous":
        return Client()
    if role == "bad_token":
        return Client(HTTP_AUTHORIZATION="Bearer engram_not-a-token")
    if role.endswith("_token"):
        secret = ApiToken.issue(cast[role.removesuffix("_token")], "ci")
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client = Client()
    client.force_login(cast[role])
    return client


def post(client, url, data=None, **headers):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


@pytest.fixture
def operator(cast):
    return client_for("operator_token", cast)


@pytest.fixture
def viewer(cast):
    return client_for("viewer_token", cast)
