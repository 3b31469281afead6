"""The search endpoint."""

import pytest

from memory.models import Memory
from memory.enrichment.embedding import embed_memories
from tests.memory.factories import make_memory

pytestmark = pytest.mark.django_db


# GET /api/search

def test_search_ranks_the_visible_memories_with_scores_and_ranks(client, project, foreign):
    hit = make_memory(project, "We moved billing to PostgreSQL.")
    make_memory(project, "Lunch was pizza again.")
    make_memory(foreign, "PostgreSQL billing secrets.")
    embed_memories(list(Memory.objects.values_list("pk", flat=True)))

    response = client.get("/api/search", {"q": "postgresql billing", "project": project.pk, "limit": 5})

    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["memory"]["id"] == hit.pk
    assert results[0]["ranks"] == {"text": 1, "vector": 1} and results[0]["score"] > 0
    assert results[0]["memory"]["embedded"] is True
    assert {r["memory"]["project"] for r in results} == {project.pk}


@pytest.mark.parametrize("params, field", [({}, "q"), ({"q": "  "}, "q"), ({"q": "x", "limit": 51}, "limit")])
def test_bad_search_parameters_are_400(client, project, params, field):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]
