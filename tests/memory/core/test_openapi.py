"""The memory API's OpenAPI document: served, valid, and in step with the URLconf and the responses."""

import json

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from memory.core.api import SCHEMA_PATH

pytestmark = pytest.mark.django_db


def memory_api_routes():
    """Every route mounted from memory.api_urls, written as OpenAPI paths."""
    routes = set()
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "urlconf_name", None) is None or getattr(pattern, "app_name", None) != "memory_api":
            continue
        for route in pattern.url_patterns:
            routes.add("/" + str(pattern.pattern) + str(route.pattern).replace("<int:pk>", "{pk}"))
    return routes


def test_the_document_is_served_as_json_without_signing_in():
    response = Client().get(reverse("memory_api:openapi"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == json.loads(SCHEMA_PATH.read_text())
    assert response.json()["openapi"].startswith("3.1")


def test_every_memory_api_route_has_an_entry_and_every_entry_a_route():
    schema = json.loads(SCHEMA_PATH.read_text())
    routes = memory_api_routes()
    assert "/api/memory/{pk}" in routes  # the walk found the URLconf, not an empty set
    assert routes == set(schema["paths"]), "memory/openapi.json and memory/api_urls.py disagree"


def test_each_routes_methods_are_the_ones_the_view_allows(client):
    """A method the document lists is allowed by the view (not a 405) and one it omits is a 405."""
    schema = json.loads(SCHEMA_PATH.read_text())
    for path, item in schema["paths"].items():
        url = path.replace("{pk}", "1")
        documented = {method.upper() for method in item if method != "parameters"}
        for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
            status = client.generic(method, url).status_code
            assert (status != 405) == (method in documented or (method == "HEAD" and "GET" in documented)), (
                method, path, status)


def test_the_memory_schema_lists_exactly_the_fields_a_response_has(client, project):
    schema = json.loads(SCHEMA_PATH.read_text())["components"]["schemas"]
    created = client.post("/api/memory", {"project": project.pk, "content": "a fact"}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert set(created.json()) == set(schema["Memory"]["properties"]) == set(schema["Memory"]["required"])
    page = client.get("/api/memory").json()
    assert set(page) == set(schema["MemoryPage"]["properties"])
    assert set(page["results"][0]) == set(schema["Memory"]["properties"])
