"""The graph's click-through: an entity's memories and its own project's page, for the user's workspaces only."""

import pytest
from django.urls import reverse

from memory.models import Entity, Relation
from tests.memory.factories import make_memory, make_project


def entity(project, name):
    return Entity.objects.create(workspace=project.workspace, project=project, name=name,
                                 normalized_name=name.lower())


@pytest.mark.django_db
def test_an_entity_lists_the_memories_of_its_relations_and_links_its_own_project(client, project):
    other = make_project(project.workspace, "second")  # not the workspace's first project
    acme, friday, nobody = entity(other, "Acme"), entity(other, "Friday"), entity(other, "Nobody")
    said = make_memory(other, "Acme ships on Friday")
    make_memory(other, "unrelated")
    Relation.objects.create(workspace=other.workspace, project=other, subject=acme, object=friday,
                            predicate="ships on", source_memory=said)
    body = client.get(reverse("memory:entity", args=[friday.pk])).json()
    assert body["name"] == "Friday"
    assert body["project"] == {"id": other.pk, "name": "Second", "workspace": "Acme",
                               "url": f"{reverse('memory:page')}?project={other.pk}"}
    assert body["memories"] == [{"id": said.pk, "content": "Acme ships on Friday",
                                 "created_at": said.created_at.isoformat(),
                                 "url": reverse("memory:detail", args=[said.pk])}]
    assert client.get(reverse("memory:entity", args=[nobody.pk])).json()["memories"] == []


@pytest.mark.django_db
def test_another_workspace_s_entity_is_not_found(client, foreign):
    assert client.get(reverse("memory:entity", args=[entity(foreign, "Secret").pk])).status_code == 404
