"""The topic tree endpoint."""

import pytest

from memory.models import Topic

pytestmark = pytest.mark.django_db


# GET /api/topics/tree

def test_the_topic_tree_is_nested_in_one_query(client, project, foreign, django_assert_max_num_queries):
    def topic(name, parent=None, where=project):
        return Topic.objects.create(workspace=where.workspace, project=where, name=name, parent=parent)

    data = topic("data")
    postgres = topic("postgres", data)
    topic("indexes", postgres)
    topic("people")
    topic("hidden", where=foreign)

    client.get("/api/memory")
    with django_assert_max_num_queries(4):
        response = client.get("/api/topics/tree", {"project": project.pk})

    assert response.status_code == 200
    tree = response.json()["results"]
    assert [(t["name"], t["depth"]) for t in tree] == [("data", 0), ("people", 0)]
    assert tree[0]["children"][0]["name"] == "postgres"
    assert tree[0]["children"][0]["children"][0]["name"] == "indexes"
    assert tree[1]["children"] == []
