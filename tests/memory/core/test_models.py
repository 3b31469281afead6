"""The memory models on real Postgres with pgvector: vectors, full-text search, trees, tenancy."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import IntegrityError, connection
from pgvector.django import CosineDistance

from memory.models import Memory, Project, Topic, Workspace, content_hash
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator, make_outsider, make_staff

pytestmark = pytest.mark.django_db


def unit(index, dims=384):
    vector = [0.0] * dims
    vector[index] = 1.0
    return vector


def test_postgres_keeps_the_search_vector_and_the_gin_and_hnsw_indexes_exist():
    project = make_project(make_workspace())
    make_memory(project, "We migrated the billing service to PostgreSQL last week.")
    make_memory(project, "Lunch is at noon.")
    found = Memory.objects.filter(search_vector=SearchQuery("migrating billing", config="english"))
    assert [m.content[:11] for m in found] == ["We migrated"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'memory_memory'")
        defs = " ".join(row[0] for row in cursor.fetchall())
    assert "USING hnsw (embedding vector_cosine_ops)" in defs and "USING gin (search_vector)" in defs


def test_embeddings_are_384_dimensional_and_ordered_by_cosine_distance():
    project = make_project(make_workspace())
    near = make_memory(project, "near", embedding=unit(0))
    far = make_memory(project, "far", embedding=unit(1))
    query = [0.9] + [0.1] + [0.0] * 382
    ranked = Memory.objects.order_by(CosineDistance("embedding", query))
    assert list(ranked.values_list("pk", flat=True)) == [near.pk, far.pk]
    with pytest.raises(Exception):
        make_memory(project, "wrong size", embedding=[1.0, 2.0])


def test_the_content_hash_follows_the_content_and_decides_re_embedding():
    memory = make_memory(make_project(make_workspace()), "first")
    assert memory.content_hash == content_hash("first")
    memory.embedding, memory.embedding_model, memory.embedded_hash = unit(3), "m1", memory.content_hash
    memory.save()
    assert not memory.needs_embedding("m1") and memory.needs_embedding("m2")
    memory.content = "second"
    memory.save(update_fields=["content"])
    memory.refresh_from_db()
    assert memory.content_hash == content_hash("second") and memory.needs_embedding("m1")


def test_importance_and_strength_stay_between_0_and_1():
    project = make_project(make_workspace())
    with pytest.raises(IntegrityError):
        make_memory(project, "too important", importance=1.5)


def test_a_topic_subtree_is_one_prefix_query():
    project = make_project(make_workspace())
    root = Topic.objects.create(workspace=project.workspace, project=project, name="engineering")
    child = Topic.objects.create(workspace=project.workspace, project=project, name="databases", parent=root)
    leaf = Topic.objects.create(workspace=project.workspace, project=project, name="postgres", parent=child)
    other = Topic.objects.create(workspace=project.workspace, project=project, name="sales")
    assert leaf.path == f"/{root.pk}/{child.pk}/{leaf.pk}/" and leaf.depth == 2
    assert set(Topic.objects.subtree(child)) == {child, leaf}
    assert set(Topic.objects.subtree(root)) == {root, child, leaf}
    assert other not in Topic.objects.subtree(root)


def test_members_see_only_their_workspaces_staff_status_alone_none_and_superusers_all():
    member = make_outsider("member")
    mine = make_workspace("mine", member=member)
    theirs = make_workspace("theirs")
    make_project(mine, "a")
    make_project(theirs, "b")
    assert list(Workspace.objects.visible_to(member)) == [mine]
    assert [p.slug for p in Project.objects.visible_to(member)] == ["a"]
    # Issue 11: is_staff opens the admin site, not every workspace.
    assert Project.objects.visible_to(make_staff()).count() == 0
    assert Project.objects.visible_to(make_operator()).count() == 2
