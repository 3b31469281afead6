"""Property-based tests: hostile values into every JSON endpoint, the task forms and the CLI; never a 500.

Each test prints how many cases it tried (pytest -s, or the summary in CI's log).
"""

import base64
import datetime as dt
import json
import math
import re
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.forms import TaskArgumentsForm
from jobs.samples import returns_42
from jobs.safe_json import UnsafeInput, check_value, loads
from memory.models import Session
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider

pytestmark = pytest.mark.django_db

SETTINGS = settings(max_examples=250, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

nasty_characters = st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff"]))
nasty_text = st.text(alphabet=nasty_characters, max_size=40)
nasty_numbers = st.one_of(
    st.integers(), st.integers(min_value=10**18, max_value=10**400), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 1e308, -0.0]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), nasty_numbers, nasty_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(nasty_text, children, max_size=4)),
    max_leaves=20,
)


def deep(levels):
    return "[" * levels + "]" * levels


raw_bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value, allow_nan=True)),
    st.integers(min_value=30, max_value=20_000).map(deep),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)

FIELDS = ["project", "content", "layer", "source", "importance", "strength", "metadata", "expires_at", "title",
          "context", "options", "chosen", "rationale", "limit", "cursor", "created_after", "q"]
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
dates = st.one_of(nasty_text, st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                               "0000-01-01", "10000-01-01", "2024-02-30", "2024-01-01T25:00"]))


class Counter:
    def __init__(self, name):
        self.name, self.cases, self.server_errors = name, 0, 0

    def see(self, status):
        self.cases += 1
        self.server_errors += status >= 500
        return status

    def report(self):
        print(f"\nfuzz {self.name}: {self.cases} cases, {self.server_errors} server errors")
        assert self.server_errors == 0


@pytest.fixture
def world():
    member = make_outsider("member")
    project = make_project(make_workspace("acme", member=member))
    memory = make_memory(project, "a memory")
    session = Session.objects.create(workspace=project.workspace, project=project, user=member)
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client, project, memory, session


def body_with_project(project):
    return objects.map(lambda data: {**data, "project": data.get("project", project.pk)})


def test_json_endpoints_never_answer_a_server_error(world):
    client, project, memory, session = world
    counter = Counter("API JSON bodies")
    endpoints = [("post", "/api/memory"), ("patch", f"/api/memory/{memory.pk}"), ("post", "/api/decisions"),
                 ("post", f"/api/sessions/{session.pk}/messages")]

    @SETTINGS
    @given(endpoint=st.sampled_from(endpoints), body=st.one_of(
        raw_bodies, body_with_project(project).map(lambda d: json.dumps(d, allow_nan=True))))
    def case(endpoint, body):
        method, url = endpoint
        response = getattr(client, method)(url, body, content_type="application/json")
        assert counter.see(response.status_code) < 500, (method, url, body[:200], response.content[:300])

    case()
    counter.report()


def test_query_strings_never_answer_a_server_error(world):
    client, project, memory, session = world
    counter = Counter("API and page query strings")
    urls = ["/api/memory", "/api/search", "/api/topics/tree", "/api/graph", "/memory/", f"/api/memory/{memory.pk}",
            f"/api/sessions/{session.pk}/context"]
    params = st.dictionaries(st.sampled_from(["project", "q", "limit", "cursor", "created_after", "created_before",
                                              "layer", "source"]),
                             st.one_of(nasty_text, dates, nasty_numbers.map(str)), max_size=4)

    @SETTINGS
    @given(url=st.sampled_from(urls), query=params)
    def case(url, query):
        response = client.get(url, query)
        assert counter.see(response.status_code) < 500, (url, query, response.content[:300])

    case()
    counter.report()


# --- the run API (/api/runs/) -------------------------------------------------------------

RUN_FILTERS = ["task", "status", "queue", "request_id", "created_after", "created_before", "limit", "cursor"]
RUN_BODY_FIELDS = ["task", "args", "kwargs", "queue", "priority", "delay"]
TASKS = ["jobs.samples.noop", "jobs.samples.echo", "jobs.samples.sleeps", "jobs.samples.returns_42"]


def cursor_like(values):
    """Base64 of JSON, as the run API's cursors are: right shape with wrong contents, or junk."""
    return base64.urlsafe_b64encode(json.dumps(values, allow_nan=True).encode("utf-8", "surrogatepass")).decode()


# Python takes offsets up to ±23:59, PostgreSQL only up to ±15:59; years 1 and 9999 border both.
offset_dates = st.builds(lambda moment, minutes: moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))).isoformat(),
                         st.datetimes(), st.one_of(st.integers(min_value=-1439, max_value=1439),
                                                   st.integers(min_value=960, max_value=1439),
                                                   st.integers(min_value=-1439, max_value=-960)))
run_cursors = st.one_of(
    nasty_text,
    st.tuples(st.one_of(dates, offset_dates, nasty_text), st.one_of(nasty_text, st.uuids().map(str))).map(list).map(cursor_like),
    json_values.map(cursor_like),
)
run_dates = st.one_of(dates, offset_dates, st.datetimes().map(dt.datetime.isoformat))
run_filter_values = st.one_of(nasty_text, nasty_numbers.map(str), st.sampled_from(
    ["queued,running", "succeeded,,dead", "default", "memory", *TASKS]))
run_bodies = st.dictionaries(
    st.one_of(st.sampled_from(RUN_BODY_FIELDS), nasty_text),
    st.one_of(json_values, st.sampled_from(TASKS), st.lists(json_values, max_size=3)), max_size=6,
).map(lambda body: {"task": TASKS[1], **body} if "task" not in body else body)
idempotency_keys = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["k", "k" * 255, "k" * 256, ""]))


@pytest.fixture
def operator_client():
    client = Client(raise_request_exception=False)
    client.force_login(make_operator())
    return client


def is_uuid(text):
    """What Django's <uuid:> converter matches."""
    return re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text) is not None


def test_the_run_api_never_answers_a_server_error(operator_client):

    counter = Counter("run API filters, cursors, bodies and Idempotency-Key headers")
    run_ids = [str(returns_42.enqueue().id) for _ in range(3)]
    requests = st.one_of(
        st.tuples(st.just("list"), st.fixed_dictionaries({}, optional={
            name: st.one_of(run_dates, run_filter_values) if name.startswith("created") else
            st.one_of(run_cursors, run_filter_values) if name == "cursor" else run_filter_values
            for name in RUN_FILTERS})),
        # Dates and cursors alone: with another filter wrong, the query would never run.
        st.tuples(st.just("list"), st.fixed_dictionaries({}, optional={
            "created_after": run_dates, "created_before": run_dates, "cursor": run_cursors})),
        st.tuples(st.just("enqueue"), st.tuples(
            st.one_of(run_bodies.map(lambda b: json.dumps(b, allow_nan=True)), raw_bodies), idempotency_keys)),
        st.tuples(st.sampled_from(["detail", "cancel", "retry"]), st.one_of(
            st.sampled_from(run_ids), st.uuids().map(str), nasty_text.map(lambda t: t.replace("/", "")).filter(bool))),
    )

    @SETTINGS
    @given(request=requests)
    def case(request):
        kind, data = request
        if kind == "list":
            response = operator_client.get("/api/runs/", data)
        elif kind == "enqueue":
            body, key = data
            headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
            response = operator_client.post("/api/runs/", body, content_type="application/json", **headers)
        else:
            url = f"/api/runs/{quote(data, safe='', errors='surrogatepass')}" + (
                "" if kind == "detail" else f"/{kind}")
            response = operator_client.get(url) if kind == "detail" else operator_client.post(url)
            if not is_uuid(data):
                assert response.status_code == 404  # the resolver refuses it before any view
                return
        assert counter.see(response.status_code) < 500, (kind, data, response.content[:300])
        assert response["Content-Type"] == "application/json"

    case()
    counter.report()


def test_the_task_arguments_form_refuses_or_accepts_but_never_raises():
    counter = Counter("task arguments form")

    class Form(TaskArgumentsForm):
        def task_path(self):
            return "jobs.samples.sleeps"

    @SETTINGS
    @given(args=raw_bodies, kwargs=raw_bodies)
    def case(args, kwargs):
        form = Form({"args": args, "kwargs": kwargs})
        counter.see(200)
        if form.is_valid():  # what it accepts is JSON-safe and binds to sleeps(seconds=1.0)
            check_value(form.cleaned_data["args"])
            check_value(form.cleaned_data["kwargs"])
            assert len(form.cleaned_data["args"]) + len(form.cleaned_data["kwargs"]) <= 1

    case()
    counter.report()


def test_safe_json_accepts_exactly_the_values_that_survive_postgres():
    counter = Counter("safe_json.loads")

    @SETTINGS
    @given(value=json_values)
    def case(value):
        counter.see(200)
        text = json.dumps(value, allow_nan=True)
        try:
            parsed = loads(text)
        except UnsafeInput:
            return
        encoded = json.dumps(parsed, allow_nan=False)  # finite, and no NaN
        encoded.encode("utf-8")  # no lone surrogate
        assert "\\u0000" not in encoded
        assert all(not isinstance(n, float) or math.isfinite(n) for n in _numbers(parsed))

    case()
    counter.report()


def _numbers(value):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)):
            yield item


def test_the_jobs_cli_gives_one_line_errors_never_a_traceback():
    counter = Counter("jobs CLI")
    commands = st.one_of(
        st.tuples(st.just("enqueue"), st.sampled_from(["jobs.samples.sleeps", "jobs.samples.noop"]),
                  st.sampled_from(["--args", "--kwargs", "--delay", "--priority", "--queue"]), nasty_text | raw_bodies),
        st.tuples(st.just("list"), st.sampled_from(["--limit", "--task"]), nasty_text | nasty_numbers.map(str)),
        st.tuples(st.sampled_from(["show", "retry", "cancel"]), nasty_text),
        st.tuples(st.sampled_from(["pause", "resume"]), nasty_text),
    )

    @SETTINGS
    @given(argv=commands)
    def case(argv):
        counter.see(200)
        try:
            call_command("jobs", *argv)
        except CommandError as exc:
            assert "\n" not in str(exc).strip()
        except SystemExit:  # argparse refused the shape of the command line (exit code 2)
            pass

    case()
    counter.report()
