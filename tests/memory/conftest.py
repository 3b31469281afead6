"""Shared fixtures of the memory tests: a member, their project, a foreign project, a logged-in client."""

import pytest
from django.test import Client

from tests.memory.factories import make_project, make_workspace
from tests.users import make_outsider


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
