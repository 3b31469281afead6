"""The knowledge graph: extraction, entity resolution and communities; services directly, tasks through a worker."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jobs import RunStatus
from jobs.defaults import seed_schedules
from jobs.models import JobRun, Schedule
from memory.core.memories import GRAPH_CLAIM_LEASE
from memory.models import Entity, EntityMerge, Memory, Project, Relation
from memory.providers.text_generation import ProviderError, get_text_generator
from memory.graph import extraction as graph_extraction
from memory.graph.communities import detect_communities, detect_stale_communities
from memory.graph.entity_resolution import resolve_entities
from memory.graph.extraction import (
    extract_graph,
    normalize_name,
    process_extraction_queue,
    refresh_stale_graphs,
)
from memory.core.recording import change_memory
from memory.tasks import resolve_entities_batch
from tests.memory.factories import make_memory, make_project, make_workspace

T0 = timezone.now().replace(microsecond=0)


def make_entity(project, name, type=""):
    return Entity.objects.create(workspace=project.workspace, project=project, name=name,
                                 normalized_name=normalize_name(name), type=type)


def relate(subject, obj, predicate="related_to", confidence=0.8):
    return Relation.objects.create(workspace=subject.workspace, project=subject.project, subject=subject,
                                   predicate=predicate, object=obj, confidence=confidence)


def facts(project):
    return sorted((r.subject.name, r.predicate, r.object.name) for r in Relation.objects.filter(project=project))


def test_names_normalise_without_case_punctuation_or_a_leading_the():
    assert normalize_name("  The  Acme, Corp. ") == "acme corp"
    assert normalize_name("Theodore") == "theodore"


@pytest.mark.django_db
def test_extraction_creates_typed_entities_and_relations():
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice works at Google. The Acme Corp acquired Initech.")
    assert extract_graph(memory) == {"entities_created": 4, "relations_created": 2, "relations_deleted": 0}
    assert facts(project) == [("Acme Corp", "acquired", "Initech"), ("Alice", "works_at", "Google")]
    types = dict(Entity.objects.values_list("name", "type"))
    assert types == {"Alice": "person", "Google": "organization", "Acme Corp": "organization",
                     "Initech": "organization"}
    assert Relation.objects.get(predicate="works_at").source_memory == memory
    memory.refresh_from_db()
    assert memory.graph_extracted_at is not None


@pytest.mark.django_db
def test_re_extracting_a_memory_replaces_its_relations_instead_of_duplicating_them():
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice works at Google.")
    extract_graph(memory)
    assert extract_graph(memory) == {"entities_created": 0, "relations_created": 1, "relations_deleted": 1}
    assert Relation.objects.count() == 1 and Entity.objects.count() == 2


@pytest.mark.django_db
def test_another_surface_form_of_a_name_becomes_an_alias():
    project = make_project(make_workspace())
    extract_graph(make_memory(project, "Acme Corp acquired Initech."))
    extract_graph(make_memory(project, "ACME Corp acquired Hooli."))
    acme = Entity.objects.get(normalized_name="acme corp")
    assert acme.name == "Acme Corp" and acme.aliases == ["ACME Corp"]
    assert Relation.objects.filter(subject=acme).count() == 2


@pytest.mark.django_db
def test_the_queue_takes_the_oldest_pending_memories_first():
    project = make_project(make_workspace())
    newest = make_memory(project, "Carol works at Initech.", created_at=T0)
    make_memory(project, "Alice works at Google.", created_at=T0 - timedelta(days=2))
    make_memory(project, "Bob works at Microsoft.", created_at=T0 - timedelta(days=1))
    counts = process_extraction_queue(limit=2)
    assert counts == {"memories": 2, "entities_created": 4, "relations_created": 2, "relations_deleted": 0,
                      "failed": 0, "projects": [project.pk]}
    assert list(Memory.objects.graph_pending()) == [newest]
    assert process_extraction_queue()["memories"] == 1 and process_extraction_queue()["memories"] == 0


@pytest.mark.django_db
def test_a_content_change_makes_the_graph_stale_and_the_refresh_replaces_its_relations():
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice works at Google.")
    extract_graph(memory)
    change_memory(memory, importance=0.9)
    assert not Memory.objects.graph_stale().exists()
    change_memory(memory, content="Alice works at Initech.")
    assert list(Memory.objects.graph_stale()) == [memory] and not Memory.objects.graph_pending().exists()
    assert refresh_stale_graphs() == {"memories": 1, "entities_created": 1, "relations_created": 1,
                                      "relations_deleted": 1, "failed": 0, "projects": [project.pk]}
    assert facts(project) == [("Alice", "works_at", "Initech")]
    assert refresh_stale_graphs()["memories"] == 0


@pytest.mark.django_db
def test_an_edit_made_while_the_generator_reads_leaves_the_memory_stale():
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice works at Google.")
    as_read = Memory.objects.get(pk=memory.pk)
    memory.content = "Alice works at Initech."
    memory.save()
    extract_graph(as_read)
    assert list(Memory.objects.graph_stale()) == [memory]


@pytest.mark.django_db
def test_the_graph_queues_use_their_partial_indexes():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned anyway
        for memories, index in ((Memory.objects.graph_pending(), "memory_graph_pending_idx"),
                                (Memory.objects.graph_stale(), "memory_graph_stale_idx")):
            query = memories.graph_unclaimed().order_by("created_at", "pk").select_for_update(skip_locked=True)
            assert index in query[:1].explain()


@pytest.mark.django_db
def test_a_live_claim_keeps_other_passes_off_and_a_lapsed_one_does_not():
    memory = make_memory(make_project(make_workspace()), "Alice works at Google.")
    assert Memory.objects.graph_pending().claim_next_for_graph() == memory
    assert Memory.objects.graph_pending().claim_next_for_graph() is None
    assert process_extraction_queue()["memories"] == 0
    # The worker holding it died: once the lease runs out another pass takes it.
    later = timezone.now() + GRAPH_CLAIM_LEASE + timedelta(seconds=1)
    assert Memory.objects.graph_pending().claim_next_for_graph(now=later) == memory


@pytest.mark.django_db
def test_a_memory_the_generator_fails_on_waits_out_its_claim_while_the_queue_goes_on(monkeypatch):
    real = get_text_generator()

    class Refusing:
        def extract_triples(self, text):
            if "Google" in text:
                raise ProviderError("server said no")
            return real.extract_triples(text)

    monkeypatch.setattr(graph_extraction, "get_text_generator", Refusing)
    project = make_project(make_workspace())
    failing = make_memory(project, "Alice works at Google.", created_at=T0 - timedelta(days=1))
    make_memory(project, "Bob works at Initech.", created_at=T0)
    counts = process_extraction_queue()
    assert (counts["memories"], counts["failed"]) == (1, 1)
    failing.refresh_from_db()
    assert failing.graph_extracted_at is None and failing.graph_claimed_until is not None
    assert process_extraction_queue()["failed"] == 0  # not tried again within the lease


@pytest.mark.django_db
def test_communities_are_detected_again_only_where_the_graph_changed():
    a, b = make_project(make_workspace("a")), make_project(make_workspace("b"))
    memory = make_memory(a, "Alice works at Google.")
    extract_graph(memory)
    extract_graph(make_memory(b, "Carol works at Initech."))
    assert detect_stale_communities() == {"projects": 2, "communities": 2}
    assert detect_stale_communities() == {"projects": 0, "communities": 0}
    extract_graph(memory)  # the same text gives the same edges: nothing changed
    assert detect_stale_communities() == {"projects": 0, "communities": 0}
    extract_graph(make_memory(b, "Dan works at Hooli."))
    assert detect_stale_communities() == {"projects": 1, "communities": 2}
    assert Project.objects.get(pk=b.pk).communities_version == Project.objects.get(pk=b.pk).graph_version == 2


@pytest.mark.django_db
def test_the_migration_trusts_extractions_made_after_the_last_save_and_detects_every_graph_once():
    from importlib import import_module

    from django.apps import apps

    project, empty = make_project(make_workspace("a")), make_project(make_workspace("b"))
    untouched, edited = make_memory(project, "Alice works at Google."), make_memory(project, "Bob works at Initech.")
    for memory in (untouched, edited):
        extract_graph(memory)
    Memory.objects.update(graph_extracted_hash="")  # as before the migration
    Project.objects.update(graph_version=0)
    Memory.objects.filter(pk=edited.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
    import_module("memory.migrations.0004_graph_staleness").backfill(apps, None)
    assert list(Memory.objects.graph_stale()) == [edited]
    assert dict(Project.objects.values_list("pk", "graph_version")) == {project.pk: 1, empty.pk: 0}


@pytest.mark.django_db
def test_nyc_new_york_city_and_new_york_become_one_entity_but_google_and_microsoft_do_not():
    project = make_project(make_workspace())
    places = [make_entity(project, name, "place") for name in ("NYC", "New York City", "New York")]
    make_entity(project, "Google", "organization")
    make_entity(project, "Microsoft", "organization")
    merges = resolve_entities(project)
    assert len(merges) == 2
    survivors = Entity.objects.filter(project=project, canonical__isnull=True)
    assert sorted(survivors.values_list("name", flat=True)) == ["Google", "Microsoft", "New York City"]
    city = survivors.get(name="New York City")
    assert sorted(city.aliases) == ["NYC", "New York"]
    assert all(e.canonical_id == city.pk for e in Entity.objects.filter(pk__in=[p.pk for p in places])
               if e.pk != city.pk)
    assert {m.reason for m in merges} == {"acronym", "prefix"}
    assert resolve_entities(project) == []  # nothing left to merge


@pytest.mark.django_db
def test_a_merge_re_points_relations_and_writes_the_audit_row():
    project = make_project(make_workspace())
    alice, bob = make_entity(project, "Alice", "person"), make_entity(project, "Bob", "person")
    acme = make_entity(project, "Acme Corp", "organization")
    acme_long = make_entity(project, "Acme Corporation", "")
    relate(alice, acme, "works_at")
    relate(bob, acme, "works_at")
    relate(acme_long, alice, "employs")
    [merge] = resolve_entities(project)
    acme_long.refresh_from_db()
    acme.refresh_from_db()
    assert merge.survivor == acme and merge.merged_entity == acme_long  # more relations wins
    assert (merge.merged_name, merge.reason, merge.relations_moved) == ("Acme Corporation", "normalised name", 1)
    assert merge.similarity > 0.5 and EntityMerge.objects.count() == 1
    assert acme_long.canonical == acme and acme.aliases == ["Acme Corporation"]
    assert not Relation.objects.filter(subject=acme_long).exists()
    assert Relation.objects.get(predicate="employs").subject == acme
    # A later mention of the merged name lands on the survivor.
    extract_graph(make_memory(project, "Carol works at Acme Corporation."))
    assert Relation.objects.filter(object=acme, predicate="works_at").count() == 3


@pytest.mark.django_db
def test_names_alike_but_of_different_types_stay_apart():
    project = make_project(make_workspace())
    make_entity(project, "Paris", "place")
    make_entity(project, "Paris Hilton", "person")
    make_entity(project, "Amazon", "organization")
    make_entity(project, "Amazon Web Services", "organization")
    assert resolve_entities(project) == []


@pytest.mark.django_db
def test_two_clusters_joined_by_a_weak_edge_are_two_communities():
    project = make_project(make_workspace())
    left = [make_entity(project, name) for name in ("A1", "A2", "A3", "A4")]
    right = [make_entity(project, name) for name in ("B1", "B2", "B3")]
    for cluster in (left, right):
        for i, a in enumerate(cluster):
            for b in cluster[i + 1:]:
                relate(a, b, confidence=0.9)
    relate(left[0], right[0], confidence=0.1)
    relate(left[0], left[1], confidence=0.9)  # a parallel edge adds weight to the tie
    merged = make_entity(project, "A1 again")
    merged.canonical = left[0]
    merged.save()
    assert detect_communities(project) == {"communities": 2, "entities": 7}
    community = dict(Entity.objects.values_list("name", "community"))
    assert {community[e.name] for e in left} == {0}  # the larger cluster is community 0
    assert {community[e.name] for e in right} == {1}
    assert community["A1 again"] is None
    assert detect_communities(project) == {"communities": 2, "entities": 7}  # same seed, same answer


@pytest.mark.django_db(transaction=True)
def test_entity_resolution_runs_through_a_real_worker(work):
    project = make_project(make_workspace())
    city, nyc = make_entity(project, "New York City", "place"), make_entity(project, "NYC", "place")
    alice = make_entity(project, "Alice", "person")
    relate(alice, city, "lives_in")
    relate(alice, city, "works_in")
    relate(alice, nyc, "visited")
    found, missing = resolve_entities_batch.enqueue(project.pk).id, resolve_entities_batch.enqueue(0).id
    work()
    run = JobRun.objects.get(pk=found)
    assert run.status == RunStatus.SUCCEEDED and run.rq_queue_name == "graphs.normal"
    assert run.result == {"merges": 1, "relations_moved": 1}
    assert JobRun.objects.get(pk=missing).result == {"skipped": "missing"}
    nyc.refresh_from_db()
    assert nyc.canonical == city and Relation.objects.filter(object=city).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_graph_schedules_are_seeded():
    created = seed_schedules()
    assert {"memory: update knowledge graph", "memory: extract knowledge graph"} <= set(created)
    schedule = Schedule.objects.get(name="memory: update knowledge graph")
    assert (schedule.interval_seconds, schedule.cron) == (300, "")


@pytest.mark.django_db(transaction=True)
def test_the_weekly_fan_out_resolves_every_project_with_entities(work):
    from jobs.models import JobRun
    from memory.models import Entity
    from memory.tasks import resolve_entities_weekly

    with_entities = make_project(make_workspace("weekly-a"))
    make_project(make_workspace("weekly-b"))
    for name in ("New York City", "NYC"):
        Entity.objects.create(workspace=with_entities.workspace, project=with_entities, name=name,
                              normalized_name=name.lower(), type="place")
    parent_id = resolve_entities_weekly.enqueue().id
    work()
    assert JobRun.objects.get(pk=parent_id).result == {"projects": [with_entities.pk]}
    child = JobRun.objects.get(parent_id=parent_id)
    assert child.status == "succeeded" and child.result["merges"] == 1


@pytest.mark.django_db(transaction=True)
def test_graph_writes_do_not_wait_for_open_transactions_that_insert_rows_pointing_at_them():
    """A reflection being saved (KEY SHARE on its project and memories) must not block or deadlock an extraction."""
    from django.db import connections

    project = make_project(make_workspace())
    memory = make_memory(project, "Alice Chen leads the Berlin office.")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            # What the foreign-key checks of an insert pointing at these rows take, until commit.
            cursor.execute("BEGIN")
            cursor.execute(f"SELECT 1 FROM {Project._meta.db_table} WHERE id = %s FOR KEY SHARE", [project.pk])
            cursor.execute(f"SELECT 1 FROM {Memory._meta.db_table} WHERE id = %s FOR KEY SHARE", [memory.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait would fail the test instead of hanging it
        assert Memory.objects.filter(pk=memory.pk).claim_next_for_graph() is not None
        assert extract_graph(memory)["relations_created"] >= 1
        assert detect_communities(project) is not None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        with other.cursor() as cursor:
            cursor.execute("ROLLBACK")
        other.close()
