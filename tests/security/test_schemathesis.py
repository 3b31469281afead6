"""Schemathesis fuzzes the memory API and the run API from their OpenAPI documents, in-process.

Each operation gets schema-valid cases (checked against the document: status code, content type
and body schema) and schema-breaking cases (checked for "never a server error"). Requests go to
Django's WSGI application with a bearer token, as a client's would, against a seeded workspace.
Each test prints how many cases it tried and the status codes it saw (pytest -s).
"""

import collections
import json
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from jobs.api.views import SCHEMA_PATH as RUNS_SCHEMA_PATH
from jobs.models import JobRun
from jobs.samples import returns_42
from memory.core.api import SCHEMA_PATH as MEMORY_SCHEMA_PATH
from memory.models import ApiToken, Decision, Entity, Relation, Session, Topic
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider

pytestmark = pytest.mark.django_db

EXAMPLES = 30  # per operation and mode: the whole module stays well under two minutes
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))


def load(path):
    return schemathesis.openapi.from_dict(json.loads(Path(path).read_text()))


MEMORY_SCHEMA = load(MEMORY_SCHEMA_PATH)
RUNS_SCHEMA = load(RUNS_SCHEMA_PATH)


def cases(schema):
    """(operation, mode) pairs: both modes where there is input to break, positive only where there is none."""
    pairs = []
    for result in schema.get_all_operations():
        operation = result.ok()
        has_input = "{" in operation.path or operation.definition.raw.get("parameters") or "requestBody" in (
            operation.definition.raw)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,):
            pairs.append(pytest.param(operation, mode, id=f"{operation.label} {mode.value}"))
    return pairs


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI application, sharing the test's transaction like django.test.Client does."""
    # Tokens are rate-limited per address; the fuzz sends far more than a client would.
    settings.ENGRAM_TOKEN_RATE = "1000000/60"
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def memory_world():
    """An owner's token in a workspace with memories, topics, a graph, a session and a decision."""
    owner = make_outsider("owner")
    workspace = make_workspace("acme", member=owner)
    project = make_project(workspace)
    memories = [make_memory(project, text) for text in (
        "Alice ships the launch on Friday", "Bob reviews the budget", "the launch slips a week")]
    root = Topic.objects.create(workspace=workspace, project=project, name="launch")
    Topic.objects.create(workspace=workspace, project=project, name="dates", parent=root)
    alice = Entity.objects.create(workspace=workspace, project=project, name="Alice", normalized_name="alice",
                                  type="person", community=1)
    launch = Entity.objects.create(workspace=workspace, project=project, name="Launch", normalized_name="launch")
    Relation.objects.create(workspace=workspace, project=project, subject=alice, object=launch, predicate="ships")
    session = Session.objects.create(workspace=workspace, project=project, user=owner)
    Decision.objects.create(workspace=workspace, project=project, owner=owner, title="Ship on Friday",
                            options=["Friday", "Monday"])
    secret = ApiToken.issue(owner, "fuzz", workspace=workspace)
    return {"token": secret, "body": {"project": project.pk}, "pk": {"/api/memory/{pk}": [m.pk for m in memories],
                                    "/api/sessions/{pk}/context": [session.pk],
                                    "/api/sessions/{pk}/messages": [session.pk]}}


@pytest.fixture
def runs_world():
    """An operator's token and runs to read, cancel and retry."""
    operator = make_operator()
    waiting = [returns_42.enqueue().id for _ in range(2)]
    finished = JobRun.objects.get(pk=returns_42.enqueue().id)
    JobRun.objects.filter(pk=finished.pk).update(status="succeeded")
    return {"token": ApiToken.issue(operator, "fuzz"), "body": {"task": "jobs.samples.echo"}, "pk": {
        "/api/runs/{run_id}": [*waiting, finished.pk], "/api/runs/{run_id}/cancel": waiting,
        "/api/runs/{run_id}/retry": [finished.pk]}}


def with_real_references(case, real):
    """The case with a body's project or task set to one that exists (else nearly every body is a 400)."""
    if isinstance(case.body, dict):
        case.body.update({name: value for name, value in real.items() if name in case.body})
    return case


def strategy(operation, mode, world):
    """Cases for one operation: most on ids of rows that exist and bodies naming them, some as generated."""
    generated = operation.as_strategy(generation_mode=mode)
    names = [name for name in ("pk", "run_id") if "{" + name + "}" in operation.path]
    if names:
        real = st.sampled_from(world["pk"][operation.path]).flatmap(
            lambda pk: operation.as_strategy(generation_mode=mode, path_parameters={names[0]: str(pk)}))
    elif operation.method.upper() == "POST":
        real = generated.map(lambda case: with_real_references(case, world["body"]))
    else:
        return generated
    return st.one_of(real, real, real, generated)


def fuzz(operation, mode, world, app):
    """Run one operation's cases in one mode; return {status: count}."""
    seen = collections.Counter()
    checks = CONFORMANCE if mode is GenerationMode.POSITIVE else [not_a_server_error]
    headers = {"Authorization": f"Bearer {world['token']}"}

    @HYPOTHESIS
    @given(case=strategy(operation, mode, world))
    def case(case):
        response = case.call(app=app, headers=headers)
        seen[response.status_code] += 1
        case.validate_response(response, checks=checks, headers=headers)

    case()
    return seen


def report(label, mode, seen):
    print(f"\nschemathesis {label} {mode.value}: {sum(seen.values())} cases, "
          f"{sum(n for status, n in seen.items() if status >= 500)} server errors, statuses {dict(sorted(seen.items()))}")


@pytest.mark.parametrize("operation, mode", cases(MEMORY_SCHEMA))
def test_the_memory_api_keeps_its_document_and_never_answers_a_server_error(operation, mode, memory_world, wsgi_app):
    seen = fuzz(operation, mode, memory_world, wsgi_app)
    report(operation.label, mode, seen)
    assert sum(seen.values()) > 0


@pytest.mark.parametrize("operation, mode", cases(RUNS_SCHEMA))
def test_the_run_api_keeps_its_document_and_never_answers_a_server_error(operation, mode, runs_world, wsgi_app):
    seen = fuzz(operation, mode, runs_world, wsgi_app)
    report(operation.label, mode, seen)
    assert sum(seen.values()) > 0
