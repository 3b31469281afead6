"""The decisions endpoint."""

import pytest

from memory.models import Decision
from tests.memory.api_requests import post, runs_of

pytestmark = pytest.mark.django_db


# POST /api/decisions

@pytest.mark.django_db(transaction=True)
def test_posting_a_decision_records_it_and_enqueues_its_analysis(client, member, project):
    response = post(client, "/api/decisions", {
        "project": project.pk, "title": "Store memories in Postgres", "options": ["Postgres", "Qdrant"],
        "chosen": "Postgres", "rationale": "We already run it.",
    })

    assert response.status_code == 201
    body = response.json()
    decision = Decision.objects.get(pk=body["id"])
    assert decision.owner == member and decision.options == ["Postgres", "Qdrant"]
    assert body["quality_score"] is None and body["options"] == ["Postgres", "Qdrant"]
    assert runs_of("analyze_decision").filter(args=[decision.pk]).exists()


@pytest.mark.parametrize("body, field", [
    ({"project": "P"}, "title"), ({"project": "P", "title": "t", "options": "Postgres"}, "options"),
    ({"project": "P", "title": "t", "options": ["", "x"]}, "options"), ({"project": "F", "title": "t"}, "project"),
    ({"project": "P", "title": "t", "owner": 1}, "owner"),
])
def test_bad_decisions_are_400_with_field_errors(client, project, foreign, body, field):
    body = {k: {"P": project.pk, "F": foreign.pk}.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = post(client, "/api/decisions", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Decision.objects.exists()
