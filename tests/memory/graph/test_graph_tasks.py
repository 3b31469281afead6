"""The graph jobs through a real worker, and extraction passes running side by side on real connections."""

import threading

import pytest
from django.db import connection, transaction

from jobs import RunStatus
from jobs.models import JobRun
from memory.models import Entity, Memory, Project, Relation, content_hash
from memory.providers.text_generation import get_text_generator
from memory.graph import extraction as graph_extraction
from memory.graph.communities import detect_communities
from memory.graph.extraction import extract_graph, process_extraction_queue
from memory.core.recording import change_memory
from memory.tasks import extract_graph_lazy, process_graph_extraction_queue, resolve_entities_batch, update_graph_batch
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.memory.graph.test_graph import T0, facts, make_entity, relate

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"memories": 0, "entities_created": 0, "relations_created": 0, "relations_deleted": 0, "failed": 0,
           "projects": 0, "communities": 0}


def versions(project):
    return tuple(Project.objects.filter(pk=project.pk).values_list("graph_version", "communities_version").get())


def test_extract_graph_lazy_extracts_one_memory_through_a_real_worker(work):
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice works at Google.")
    held = make_memory(project, "Bob works at Initech.")
    held.claim_for_graph()  # an extraction pass is reading it right now
    run_id = extract_graph_lazy.enqueue(memory.pk).id
    held_id, missing_id = extract_graph_lazy.enqueue(held.pk).id, extract_graph_lazy.enqueue(0).id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.rq_queue_name == "graphs.normal"
    assert run.result == {"entities_created": 2, "relations_created": 1, "relations_deleted": 0}
    assert facts(project) == [("Alice", "works_at", "Google")]
    memory.refresh_from_db()
    assert memory.graph_extracted_hash == content_hash(memory.content) and memory.graph_claimed_until is None
    assert JobRun.objects.get(pk=held_id).result == {"skipped": "claimed"}
    assert JobRun.objects.get(pk=missing_id).result == {"skipped": "missing"}
    assert versions(project) == (1, 0)  # the graph changed; communities wait for update_graph_batch


def test_the_extraction_queue_reads_only_memories_never_extracted_through_a_real_worker(work):
    project = make_project(make_workspace())
    current = make_memory(project, "Dave works at Hooli.", created_at=T0.replace(year=2020))
    changed = make_memory(project, "Erin works at Globex.", created_at=T0.replace(year=2020))
    extract_graph(current)
    extract_graph(changed)
    changed.content = "Erin works at Umbrella Corp."
    changed.save()
    make_memory(project, "Alice works at Google. Bob works at Google.")
    make_memory(project, "Carol works at Initech.")
    run_id = process_graph_extraction_queue.enqueue().id
    work()
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.rq_queue_name == "graphs.low"
    assert run.result == {"memories": 2, "entities_created": 5, "relations_created": 3, "relations_deleted": 0,
                          "failed": 0, "projects": 1}
    assert (run.progress_done, run.progress_total, run.progress_message) == (2, 2, "memories extracted")
    assert not Memory.objects.graph_pending().exists()
    # The changed memory is update_graph_batch's: its old fact stays until then.
    assert list(Memory.objects.graph_stale()) == [changed]
    assert ("Erin", "works_at", "Globex") in facts(project)
    # The project's communities follow at once, in a chained run.
    detection = JobRun.objects.get(task_path="memory.graph.tasks.detect_communities")
    assert detection.parent_id == run.pk and detection.status == RunStatus.SUCCEEDED
    assert not Entity.objects.filter(project=project, canonical__isnull=True, community__isnull=True).exists()
    assert versions(project)[0] == versions(project)[1]


def test_the_graph_update_re_extracts_changed_memories_and_re_clusters_only_changed_projects(work):
    changing, steady = make_project(make_workspace("a")), make_project(make_workspace("b"))
    memory = make_memory(changing, "Alice works at Google. Bob works at Google.")
    make_memory(steady, "Carol works at Initech.")
    process_extraction_queue()
    for project in (changing, steady):
        detect_communities(project)
    # A marker the batch would overwrite if it re-detected the steady project's communities.
    Entity.objects.filter(project=steady).update(community=99)
    change_memory(memory, content="Alice works at Initech. Bob works at Google.")
    run_id = update_graph_batch.enqueue().id
    work()  # also runs the change's topic and embedding jobs
    run = JobRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.rq_queue_name == "graphs.low"
    assert run.result == {"memories": 1, "entities_created": 1, "relations_created": 2, "relations_deleted": 2,
                          "failed": 0, "projects": 1, "communities": 2}
    assert (run.progress_done, run.progress_total, run.progress_message) == (1, 1, "projects clustered")
    assert facts(changing) == [("Alice", "works_at", "Initech"), ("Bob", "works_at", "Google")]
    assert not Memory.objects.graph_stale().exists()
    communities = dict(Entity.objects.filter(project=changing).values_list("name", "community"))
    assert communities["Alice"] == communities["Initech"] != communities["Bob"] == communities["Google"]
    assert set(Entity.objects.filter(project=steady).values_list("community", flat=True)) == {99}
    assert versions(changing)[0] == versions(changing)[1]

    relations = set(Relation.objects.values_list("pk", flat=True))
    again = update_graph_batch.enqueue().id
    work()
    assert JobRun.objects.get(pk=again).result == NOTHING
    assert set(Relation.objects.values_list("pk", flat=True)) == relations


def test_merges_send_the_project_back_to_community_detection(work):
    project = make_project(make_workspace())
    city, nyc = make_entity(project, "New York City", "place"), make_entity(project, "NYC", "place")
    alice = make_entity(project, "Alice", "person")
    relate(alice, city, "lives_in")
    relate(alice, nyc, "visited")
    detect_communities(project)
    assert versions(project) == (0, 0)
    resolve_entities_batch.enqueue(project.pk)
    work()
    assert versions(project) == (1, 0)
    run_id = update_graph_batch.enqueue().id
    work()
    assert JobRun.objects.get(pk=run_id).result["projects"] == 1
    assert Entity.objects.get(pk=nyc.pk).community is None  # merged: its survivor stands for it


def test_a_pass_skips_the_memory_another_pass_is_claiming_instead_of_waiting_for_it():
    project = make_project(make_workspace())
    oldest = make_memory(project, "Alice works at Google.", created_at=T0.replace(year=2020))
    second = make_memory(project, "Bob works at Initech.", created_at=T0.replace(year=2021))
    locked, done = threading.Event(), threading.Event()

    def hold_the_oldest_row():
        try:
            with transaction.atomic():
                Memory.objects.select_for_update().get(pk=oldest.pk)
                locked.set()
                done.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_oldest_row)
    holder.start()
    try:
        assert locked.wait(30)
        assert Memory.objects.graph_pending().claim_next_for_graph() == second
        assert Memory.objects.graph_pending().claim_next_for_graph() is None  # second is claimed, oldest locked
    finally:
        done.set()
        holder.join(30)
    assert Memory.objects.graph_pending().claim_next_for_graph() == oldest


def test_two_extraction_passes_at_once_never_read_the_same_memory(monkeypatch):
    project = make_project(make_workspace())
    texts = [f"Person{n} works at Company{n} Inc." for n in range(6)]
    for text in texts:
        make_memory(project, text)
    real = get_text_generator()
    both_reading = threading.Barrier(2, timeout=30)
    read, first_call = [], threading.local()

    class Recording:
        def extract_triples(self, text):
            read.append(text)
            if not getattr(first_call, "done", False):
                # Each pass holds its first claim until the other holds one too: they overlap.
                first_call.done = True
                both_reading.wait()
            return real.extract_triples(text)

    monkeypatch.setattr(graph_extraction, "get_text_generator", Recording)
    results = []

    def run_a_pass():
        try:
            results.append(process_extraction_queue())
        finally:
            connection.close()

    passes = [threading.Thread(target=run_a_pass) for _ in range(2)]
    for thread in passes:
        thread.start()
    for thread in passes:
        thread.join(60)
    assert len(results) == 2 and all(result["memories"] > 0 for result in results)
    assert sorted(read) == sorted(texts)  # each text read exactly once
    assert sum(result["memories"] for result in results) == 6
    assert Relation.objects.count() == 6 and not Memory.objects.graph_pending().exists()
