"""The graph endpoint."""

import pytest

from memory.models import Entity, Relation

pytestmark = pytest.mark.django_db


# GET /api/graph

def entity(project, name, **fields):
    return Entity.objects.create(workspace=project.workspace, project=project, name=name,
                                 normalized_name=name.lower(), **fields)


def relate(subject, obj, predicate="knows"):
    return Relation.objects.create(workspace=subject.workspace, project=subject.project, subject=subject,
                                   object=obj, predicate=predicate)


def test_the_graph_has_the_most_connected_canonical_entities_and_their_edges(client, project, foreign):
    hub, a, b, c, lone = (entity(project, name) for name in ("Hub", "A", "B", "C", "Lone"))
    entity(project, "Hub Inc", canonical=hub)
    edges = [relate(hub, a), relate(b, hub), relate(a, b), relate(hub, c)]
    entity(foreign, "Theirs")

    body = client.get("/api/graph", {"project": project.pk}).json()

    assert [(n["name"], n["degree"]) for n in body["nodes"]] == [("Hub", 3), ("A", 2), ("B", 2), ("C", 1), ("Lone", 0)]
    assert {e["id"] for e in body["edges"]} == {e.pk for e in edges}

    top = client.get("/api/graph", {"limit": 2}).json()
    assert [n["name"] for n in top["nodes"]] == ["Hub", "A"]
    assert [(e["source"], e["target"], e["predicate"]) for e in top["edges"]] == [(hub.pk, a.pk, "knows")]


def test_a_graph_limit_over_500_is_400(client, project):
    response = client.get("/api/graph", {"limit": 501})
    assert response.status_code == 400
    assert "limit" in response.json()["errors"]
