"""Random form data into the memory page's forms and filters: an error the user can read, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory.models import Memory
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_outsider

pytestmark = pytest.mark.django_db

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

nasty_text = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\u2028", "\ufeff", ","])),
            max_size=60),
    st.sampled_from(["", " ", "-1", "0", "9" * 30, "1e309", "NaN", "2026-02-30", "0000-01-01", "9999-12-31",
                     "10000-01-01", "0001-01-01", "x" * 20_001, ", " * 500, "semantic", "episodic"]),
)
NOTE_FIELDS = ["project", "kind", "content", "tags", "csrfmiddlewaretoken", "unknown"]
FILTER_FIELDS = ["project", "q", "kind", "topic", "since", "until", "page"]


def form_data(fields):
    return st.dictionaries(st.sampled_from(fields), st.one_of(nasty_text, st.lists(nasty_text, max_size=3)),
                           max_size=len(fields))


def encoded(data):
    """The data as a urlencoded body, lone surrogates kept (as the middleware sees a browser's)."""
    return urlencode(data, doseq=True).encode("utf-8", "surrogatepass")


@pytest.fixture
def world():
    member = make_outsider("member")
    project = make_project(make_workspace("acme", member=member))
    memory = make_memory(project, "a memory")
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client, project, memory


def test_random_notes_never_answer_500(world):
    client, project, memory = world
    seen = {"cases": 0, "statuses": set()}

    @SETTINGS
    @given(data=form_data(NOTE_FIELDS), multipart=st.booleans(), edit=st.booleans())
    def post(data, multipart, edit):
        url = reverse("memory:detail", args=[memory.pk]) if edit else reverse("memory:new")
        if multipart:
            response = client.post(url, {k: v for k, v in data.items() if "\ud800" not in str(v)})
        else:
            response = client.generic("POST", url, encoded(data), content_type="application/x-www-form-urlencoded")
        seen["cases"] += 1
        seen["statuses"].add(response.status_code)
        assert response.status_code in (200, 302, 400), (data, response.status_code)

    post()
    print(f"\nfuzz memory notes: {seen['cases']} cases, statuses {sorted(seen['statuses'])}")
    assert seen["cases"] >= 100 and 200 in seen["statuses"]
    assert Memory.objects.filter(workspace=project.workspace).exists()


def test_random_filters_never_answer_500(world):
    client, project, memory = world
    seen = {"cases": 0, "statuses": set()}

    @SETTINGS
    @given(data=form_data(FILTER_FIELDS))
    def get(data):
        query = urlencode(data, doseq=True)
        response = client.get(f"{reverse('memory:page')}?{query}")
        seen["cases"] += 1
        seen["statuses"].add(response.status_code)
        assert response.status_code in (200, 400), (data, response.status_code)

    get()
    print(f"\nfuzz memory filters: {seen['cases']} cases, statuses {sorted(seen['statuses'])}")
    assert seen["cases"] >= 100 and 200 in seen["statuses"]
