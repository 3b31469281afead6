"""One regression test per cause of a server error, traceback or wrongly accepted value in issue 11."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from jobs.models import Schedule
from memory.models import Memory, Membership
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
HUGE = "1" * 5000


@pytest.fixture
def member():
    return make_outsider("member")


@pytest.fixture
def project(member):
    return make_project(make_workspace("acme", member=member))


@pytest.fixture
def client(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client


def send(client, method, url, body):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type="application/json")


# --- API -------------------------------------------------------------------------------------------

def test_a_deeply_nested_body_is_a_400(client, project):
    response = send(client, "post", "/api/memory", '{"metadata": ' + DEEP + "}")
    assert response.status_code == 400


@pytest.mark.parametrize("value", [42, True, ["a"], {"a": 1}, 10**30])
def test_a_number_boolean_or_list_in_a_text_field_is_a_400_naming_it(client, project, value):
    response = send(client, "post", "/api/memory", {"project": project.pk, "content": value})
    assert response.status_code == 400 and "content" in response.json()["errors"]


@pytest.mark.parametrize("raw", ['{"importance": ' + HUGE + "}", '{"importance": Infinity}', '{"importance": NaN}',
                                 '{"importance": 1e400}', '{"importance": [0.5]}', '{"layer": ["x"]}',
                                 '{"project": {"id": 1}}'])
def test_huge_infinite_or_wrongly_typed_numbers_are_a_400(client, project, raw):
    response = send(client, "post", "/api/memory", raw)
    assert response.status_code == 400


@pytest.mark.parametrize("content", ['"\\ud800"', '"a\\udfffb"', '"\\u0000"'])
def test_a_lone_surrogate_or_nul_in_content_is_a_400_naming_the_field(client, project, content):
    response = send(client, "post", "/api/memory", '{"project": %d, "content": %s}' % (project.pk, content))
    assert response.status_code == 400 and "content" in response.json()["errors"]


@pytest.mark.parametrize("metadata", ['{"a": "\\u0000"}', '{"a": NaN}', '{"\\ud800": 1}', '{"a": ["\\udc00"]}'])
def test_nul_nan_or_surrogates_inside_metadata_are_a_400_naming_it(client, project, metadata):
    response = send(client, "post", "/api/memory", '{"project": %d, "content": "x", "metadata": %s}'
                    % (project.pk, metadata))
    assert response.status_code == 400 and "metadata" in response.json()["errors"]


def test_nul_or_surrogates_in_decision_options_are_a_400(client, project):
    response = send(client, "post", "/api/decisions", '{"project": %d, "title": "t", "options": ["\\u0000"]}'
                    % project.pk)
    assert response.status_code == 400 and "options" in response.json()["errors"]


def test_a_search_of_many_words_works(client, project):
    make_memory(project, "word17 is here")
    words = " ".join(f"word{i}" for i in range(200))
    response = client.get("/api/search", {"q": words})
    assert response.status_code == 200
    assert [hit["memory"]["content"] for hit in response.json()["results"]][:1] == ["word17 is here"]


def test_an_overlong_search_says_so(client, project):
    response = client.get("/api/search", {"q": "w " * 1500})
    assert response.status_code == 400 and "at most 2000 characters" in response.json()["errors"]["q"][0]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59Z"])
def test_an_expiry_outside_the_storable_range_is_a_400_and_the_memory_stays_usable(client, project, when):
    memory = make_memory(project, "keep me")
    response = send(client, "patch", f"/api/memory/{memory.pk}", {"expires_at": when})
    assert response.status_code == 400 and "expires_at" in response.json()["errors"]
    assert client.get(f"/api/memory/{memory.pk}").status_code == 200
    assert client.get("/api/memory").status_code == 200
    assert client.delete(f"/api/memory/{memory.pk}").status_code == 204


def test_the_migration_repairs_expiry_dates_python_cannot_read(project):
    from importlib import import_module

    memory = make_memory(project, "stored before the fix")
    with connection.cursor() as cursor:  # what the unchecked PATCH stored: year 0 in UTC
        cursor.execute("UPDATE memory_memory SET expires_at = '0001-01-01 00:00:00+14' WHERE id = %s", [memory.pk])
    with pytest.raises((OverflowError, ValueError, Exception)):
        Memory.objects.get(pk=memory.pk).expires_at.isoformat()
    repair = import_module("memory.migrations.0008_security").Migration.operations
    sql = next(op for op in repair if op.__class__.__name__ == "RunSQL").sql
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)
    assert Memory.objects.get(pk=memory.pk).expires_at.year == 1


@pytest.mark.parametrize("query", [{"created_after": "0000-01-01"}, {"created_after": "10000-01-01T00:00:00"},
                                   {"created_before": "0001-01-01T00:00:00+14:00"}, {"limit": HUGE},
                                   {"project": "abc"}, {"project": HUGE}, {"cursor": "!!!"}, {"layer": "\x00"}])
def test_bad_query_strings_are_a_400(client, project, query):
    assert client.get("/api/memory", query).status_code == 400


# Found by Schemathesis: Python accepts offsets up to 23:59, PostgreSQL only up to 15:59.
def test_a_date_with_an_offset_postgres_cannot_hold_is_read_as_its_utc_instant(client, project):
    make_memory(project, "made now")
    assert client.get("/api/memory", {"created_before": "0891-09-20T07:15:03+20:31"}).json()["results"] == []
    assert len(client.get("/api/memory", {"created_after": "2000-01-01T00:00:00+23:59"}).json()["results"]) == 1
    memory = make_memory(project, "expires")
    response = send(client, "patch", f"/api/memory/{memory.pk}", {"expires_at": "2999-01-01T00:00:00+20:00"})
    assert response.status_code == 200 and response.json()["expires_at"] == "2998-12-31T04:00:00+00:00"


def test_the_run_api_reads_an_offset_postgres_cannot_hold_as_its_utc_instant(operator_client):
    response = operator_client.get("/api/runs/", {"created_after": "0891-09-20T07:15:03+20:31"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("query", [{"created_before": "0001-01-01T00:00:00+14:00"},
                                   {"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzE0OjAwIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMSJd"}])
def test_the_run_api_refuses_dates_out_of_range_with_a_400(operator_client, query):
    response = operator_client.get("/api/runs/", query)
    assert response.status_code == 400 and set(response.json()["errors"]) == set(query)


def test_a_viewer_reads_but_cannot_write(project):
    viewer = make_outsider("viewer")
    Membership.objects.create(workspace=project.workspace, user=viewer, role=Membership.Role.VIEWER)
    memory = make_memory(project, "read only")
    client = Client()
    client.force_login(viewer)
    assert client.get(f"/api/memory/{memory.pk}").status_code == 200
    assert send(client, "patch", f"/api/memory/{memory.pk}", {"content": "changed"}).status_code == 403
    assert client.delete(f"/api/memory/{memory.pk}").status_code == 403
    assert send(client, "post", "/api/memory", {"project": project.pk, "content": "x"}).status_code == 400
    assert Memory.objects.get(pk=memory.pk).content == "read only"


# --- pages -------------------------------------------------------------------------------------------

def test_the_memory_page_takes_a_non_numeric_project_and_a_nul_in_the_search_box(client, project):
    assert client.get("/memory/", {"project": "abc"}).status_code == 200
    assert client.get("/memory/", {"project": HUGE}).status_code == 200
    response = client.get("/memory/", {"q": "a\x00b"})
    assert response.status_code == 400 and b"q: Contains a NUL" in response.content


@pytest.fixture
def operator_client():
    client = Client(raise_request_exception=False)
    client.force_login(make_operator())
    return client


@pytest.mark.parametrize("args", ["[NaN]", "[Infinity]", "[" + HUGE + "]", DEEP, '["\\u0000"]', '["\\ud800"]',
                                  "[1, 2, 3]"])
def test_the_dashboard_refuses_hostile_task_arguments(operator_client, args):
    response = operator_client.post("/dashboard/", {"task": "jobs.samples.sleeps", "args": args, "kwargs": "{}"})
    assert response.status_code == 200 and b"errorlist" in response.content


@pytest.mark.parametrize("args", ["[NaN]", "[" + HUGE + "]", DEEP, '["\\u0000"]', '["\\ud800"]'])
def test_retry_with_edited_arguments_refuses_hostile_ones(operator_client, args):
    from jobs.models import JobRun
    from jobs.samples import echo

    run = JobRun.objects.get(pk=echo.enqueue("x").id)
    response = operator_client.post(f"/admin/jobs/jobrun/{run.pk}/retry-edit/", {"args": args, "kwargs": "{}"})
    assert response.status_code == 200 and b"errorlist" in response.content


@pytest.mark.parametrize("args", ["[NaN]", "[" + HUGE + "]", DEEP, '["\\u0000"]', '["\\ud800"]', "[1, 2, 3]"])
def test_schedule_arguments_refuse_hostile_values(operator_client, args):
    response = operator_client.post("/admin/jobs/schedule/add/", {
        "name": "hostile", "task_path": "jobs.samples.sleeps", "args": args, "kwargs": "{}", "enabled": "on",
        "interval_seconds": "60", "timezone": "UTC", "misfire_policy": "skip", "overlap_policy": "allow",
        "catch_up_limit": "1"})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not Schedule.objects.filter(name="hostile").exists()


def test_a_nul_in_an_admin_search_is_a_400(operator_client):
    assert operator_client.get("/admin/jobs/jobrun/", {"q": "a\x00"}).status_code == 400


# --- CLI ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["enqueue", "jobs.samples.noop", "--delay", "nan"], "--delay"),
    (["enqueue", "jobs.samples.noop", "--delay", "inf"], "--delay"),
    (["enqueue", "jobs.samples.noop", "--delay", "1e300"], "--delay"),
    (["enqueue", "jobs.samples.noop", "--priority", str(10**30)], "--priority"),
    (["list", "--limit", "-1"], "--limit"),
    (["list", "--limit", str(10**30)], "--limit"),
    (["list", "--task", "a\x00b"], "--task"),
    (["housekeeping", "--interval", "-1"], "--interval"),
    (["housekeeping", "--interval", "nan"], "--interval"),
    (["housekeeping", "--interval", "inf"], "--interval"),
    (["scheduler", "--tick", "nan"], "--tick"),
    (["scheduler", "--tick", "-1"], "--tick"),
    (["scheduler", "--tick", "inf"], "--tick"),
    (["enqueue", "jobs.samples.echo", "--args", DEEP], "--args"),
    (["enqueue", "jobs.samples.echo", "--args", "[" + HUGE + "]"], "--args"),
    (["enqueue", "jobs.samples.echo", "--args", "[NaN]"], "--args"),
    (["enqueue", "jobs.samples.noop", "--args", "[1]"], "arguments do not match"),
    (["enqueue", "jobs.samples.fails_n_times", "--args", "[\"k\"]"], "arguments do not match"),
])
def test_each_bad_cli_value_is_a_one_line_error_with_exit_code_2(argv, message):
    with pytest.raises(CommandError, match=message.replace("-", r"\-")) as error:
        call_command("jobs", *argv)
    assert error.value.returncode == 2
    assert "\n" not in str(error.value)


def test_from_the_shell_a_bad_tick_is_one_line_on_stderr_and_exit_code_2(subprocess_env):
    proc = subprocess.run([sys.executable, "manage.py", "jobs", "scheduler", "--tick", "nan"], capture_output=True,
                          text=True, env=subprocess_env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["CommandError: --tick must be a number from 0.01 to 3600, got nan"]


def test_an_api_token_that_expired_or_was_revoked_is_a_401(project, member):
    from memory.models import ApiToken

    secret = ApiToken.issue(member, "ci", workspace=project.workspace, role=Membership.Role.MEMBER)
    client = Client()
    assert client.get("/api/memory", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    token = ApiToken.objects.get(name="ci")
    assert token.last_used_at is not None and token.expires_at > timezone.now() + timedelta(days=89)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/memory", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    token.revoke()
    assert client.get("/api/memory", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_token_acts_only_in_its_workspace_and_within_its_role(project, member):
    from memory.models import ApiToken

    other = make_project(make_workspace("globex", member=member), slug="other")
    make_memory(project, "in acme")
    make_memory(other, "in globex")
    viewer = ApiToken.issue(member, "read acme", workspace=project.workspace, role=Membership.Role.VIEWER)
    client = Client(headers={"Authorization": f"Bearer {viewer}"})
    assert [m["content"] for m in client.get("/api/memory").json()["results"]] == ["in acme"]
    assert send(client, "post", "/api/memory", {"project": project.pk, "content": "x"}).status_code == 400
    Membership.objects.filter(user=member, workspace=project.workspace).update(role=Membership.Role.VIEWER)
    editor = ApiToken.issue(member, "write acme", workspace=project.workspace, role=Membership.Role.MEMBER)
    client = Client(headers={"Authorization": f"Bearer {editor}"})  # never above the user's own role
    assert send(client, "post", "/api/memory", {"project": project.pk, "content": "x"}).status_code == 400
