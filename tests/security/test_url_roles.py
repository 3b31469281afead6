"""Every URL the resolver knows, the admin's included, tried as each kind of user.

Each route has an expected status per role (ROLES order). A route missing from EXPECTED fails the
test, so a new URL cannot ship without someone deciding who may reach it.
"""

import os
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from jobs.models import JobRun
from jobs.samples import returns_42
from tests.security.cast import ROLES, build_cast
from tests.security.url_table import EXPECTED

pytestmark = pytest.mark.django_db


def walk(patterns, prefix=""):
    """(route, pattern) of every endpoint under `patterns`."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def concrete(route, values):
    """A request path for `route`, parameters filled from `values` (by name)."""
    def fill(match):
        return str(values.get(match.group("name"), "x"))

    path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)\??", fill, route)
    path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", fill, path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + path


def admin_model(route):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    return (match.group(1), match.group(2)) if match else None


@pytest.fixture
def cast():
    return build_cast()


def test_every_url_answers_each_role_as_the_table_says(cast):
    users, rows = cast
    run = JobRun.objects.get(pk=returns_42.enqueue().id)
    values = {
        "pk": rows["memory"].pk, "entity_id": rows["entity"].pk, "run_id": run.id,
        "uidb64": "x", "token": "x", "app_label": "memory", "content_type_id": 1,
    }
    object_ids = {("memory", name): rows[name].pk for name in
                  ("workspace", "project", "memory", "topic", "entity", "relation", "decision", "session")}
    object_ids[("jobs", "jobrun")] = run.id
    object_ids[("auth", "user")] = users["member_a"].pk
    routes = list(walk(get_resolver().url_patterns))
    missing, wrong, tried, observed = [], [], 0, []
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role in ROLES[1:]:
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(users[role])
    for route, pattern in routes:
        expected = EXPECTED.get(route)
        if expected is None:
            missing.append(route)
            if not os.environ.get("ENGRAM_DUMP_URL_TABLE"):
                continue
        local = dict(values)
        if "sessions/<int:pk>" in route:
            local["pk"] = rows["session"].pk
        model = admin_model(route)
        if model is not None:
            local["object_id"] = object_ids.get(model, 1)
        path = concrete(route, local)
        statuses = []
        for role in ROLES:
            statuses.append(str(clients[role].get(path).status_code))
            tried += 1
        observed.append(f"    {route!r}: \"{' '.join(statuses)}\",")
        if " ".join(statuses) != expected:
            wrong.append(f"{route} ({path}): got {' '.join(statuses)}, expected {expected}")
    print(f"\nURL-by-role: {len(routes)} routes x {len(ROLES)} roles = {tried} requests")
    if os.environ.get("ENGRAM_DUMP_URL_TABLE"):
        with open(os.environ["ENGRAM_DUMP_URL_TABLE"], "w") as out:
            out.write("\n".join(observed))
    assert not missing, "routes missing from the table: " + ", ".join(missing)
    assert not wrong, "\n".join(wrong)


def test_no_surface_shows_workspace_a_to_member_b_or_to_staff_without_membership(cast):
    users, rows = cast
    secret = "launch is on Friday"
    for role in ("member_b", "staff_no_perms"):
        client = Client()
        client.force_login(users[role])
        for path in ("/api/memory", "/api/search?q=launch", "/api/topics/tree", "/api/graph", "/memory/",
                     "/memory/?q=launch", f"/memory/?project={rows['project'].pk}",
                     "/admin/memory/memory/", "/admin/memory/memory/?q=launch"):
            body = client.get(path).content.decode()
            assert "acme" not in body.lower() and secret not in body, (role, path)
    member = Client()
    member.force_login(users["member_a"])
    assert secret in member.get("/memory/").content.decode()
