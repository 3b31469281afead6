"""The memory API at 100,000 memories: p50/p95 per endpoint, and HNSW recall@10 against exact search.

    .venv/bin/python bench/api_latency.py [--memories 100000] [--requests 100]

Memories are generated from templates; their embeddings are the real model's vectors of 2,000
distinct sentences, each reused with small noise (so the index sees clustered, realistic data
without embedding 100k texts). The HNSW index is rebuilt after the load (as a bulk import would).
Requests go through Django's test client with a bearer token, in this process (no HTTP server):
the figures are server time, without network. Goal: every p95 <= 1/5 of the design's bracket.
"""

import argparse
import random
import statistics
import time

import numpy as np

from cluster import start_cluster

# Design targets in ms; the goal is p95 <= target / 5.
TARGETS = {
    "GET /api/memory": 200, "GET /api/memory/<id>": 100, "PATCH /api/memory/<id>": 100,
    "DELETE /api/memory/<id>": 100, "GET /api/topics/tree": 150, "GET /api/graph?limit=100": 500,
    "GET /api/sessions/<id>/context (cached)": 100,
}
SUBJECTS = ["billing service", "search cluster", "mobile app", "onboarding flow", "invoice exporter",
            "data pipeline", "hiring plan", "quarterly budget", "customer portal", "release train"]
EVENTS = ["failed during the nightly run", "needs a new owner", "was migrated to the new region",
          "is slower since the last release", "got positive feedback from customers",
          "is blocked by a missing approval", "doubled its cost this month", "needs more tests"]
PEOPLE = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"]


def sentences(count, rng):
    return [f"{rng.choice(PEOPLE)} says the {rng.choice(SUBJECTS)} {rng.choice(EVENTS)} (note {i})."
            for i in range(count)]


def load(memories, rng):
    from django.db import connection

    from memory.models import Entity, Project, Relation, Session, Topic, Workspace
    from memory.providers.embeddings import get_embedding_provider

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    project = Project.objects.create(workspace=workspace, name="Main", slug="main")
    base_texts = sentences(2000, rng)
    base = get_embedding_provider().embed(base_texts)
    noise = np.random.default_rng(7)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX memory_embedding_hnsw")
        batch = []
        for i in range(memories):
            k = i % len(base_texts)
            vector = base[k] + noise.normal(0, 0.02, base.shape[1]).astype(np.float32)
            vector /= np.linalg.norm(vector)
            batch.append((workspace.pk, project.pk, f"{base_texts[k]} #{i}", "[" + ",".join(f"{x:.5f}" for x in vector) + "]"))
            if len(batch) == 5000 or i == memories - 1:
                cursor.executemany(
                    "INSERT INTO memory_memory (workspace_id, project_id, content, layer, source, importance, strength,"
                    " strength_updated_at, access_count, content_hash, created_at, updated_at, metadata, embedding,"
                    " embedding_model, embedded_hash, graph_extracted_hash) VALUES (%s, %s, %s, 'episodic', 'note', 0.5, 1.0, now(), 0,"
                    " md5(%s), now() - random() * interval '90 days', now(), '{}', %s::vector, 'bench', '', '')",
                    [(w, p, c, c, v) for w, p, c, v in batch])
                batch = []
        started = time.perf_counter()
        cursor.execute("CREATE INDEX memory_embedding_hnsw ON memory_memory USING hnsw (embedding vector_cosine_ops)"
                       " WITH (m = 16, ef_construction = 64)")
        index_s = time.perf_counter() - started
        cursor.execute("ANALYZE memory_memory")
    parents = [Topic.objects.create(workspace=workspace, project=project, name=s) for s in SUBJECTS]
    for parent in parents:
        for event in EVENTS:
            Topic.objects.create(workspace=workspace, project=project, name=f"{parent.name}: {event}", parent=parent)
    entities = [Entity.objects.create(workspace=workspace, project=project, name=f"Entity {i}",
                                      normalized_name=f"entity {i}", type="organization") for i in range(2000)]
    Relation.objects.bulk_create([
        Relation(workspace=workspace, project=project, subject=rng.choice(entities), predicate="works_with",
                 object=rng.choice(entities), confidence=0.8) for _ in range(6000)])
    session = Session.objects.create(workspace=workspace, project=project)
    return project, session, base_texts, index_s


def timed(client, method, url, headers, body=None):
    import json

    started = time.perf_counter()
    if body is None:
        response = getattr(client, method)(url, headers=headers)
    else:
        response = getattr(client, method)(url, data=json.dumps(body), content_type="application/json", headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code < 300, (method, url, response.status_code, response.content[:300])
    return elapsed


def recall_at_10(project, queries, ef_search):
    from django.db import connection, transaction

    from memory.providers.embeddings import get_embedding_provider

    vectors = get_embedding_provider().embed(queries)
    total = 0.0
    sql = ("SELECT id FROM memory_memory WHERE project_id = %s ORDER BY embedding <=> %s::vector LIMIT 10")
    for vector in vectors:
        literal = "[" + ",".join(f"{x:.6f}" for x in vector) + "]"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
            cursor.execute(sql, [project.pk, literal])
            approximate = {row[0] for row in cursor.fetchall()}
            cursor.execute("SET LOCAL enable_indexscan = off")  # the exact, sequential answer
            cursor.execute(sql, [project.pk, literal])
            exact = {row[0] for row in cursor.fetchall()}
        total += len(approximate & exact) / 10
    return total / len(vectors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    options = parser.parse_args()
    services, _ = start_cluster("l")
    rng = random.Random(42)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client

        from memory.models import ApiToken, Memory

        settings.ALLOWED_HOSTS = ["testserver"]
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        project, session, base_texts, index_s = load(options.memories, rng)
        load_s = time.perf_counter() - started
        user = User.objects.create_user("bench", is_staff=True)
        headers = {"Authorization": f"Bearer {ApiToken.issue(user, 'bench')}"}
        client = Client()
        ids = list(Memory.objects.filter(project=project).values_list("pk", flat=True)[:options.requests * 3])
        samples = {name: [] for name in [*TARGETS, "GET /api/search", "POST /api/memory"]}
        timed(client, "get", f"/api/sessions/{session.pk}/context", headers)  # builds the cache once
        for i in range(options.requests + 5):
            warm = i < 5
            measures = {
                "GET /api/memory": lambda: timed(client, "get", f"/api/memory?project={project.pk}&limit=50", headers),
                "GET /api/memory/<id>": lambda: timed(client, "get", f"/api/memory/{ids[i]}", headers),
                "PATCH /api/memory/<id>": lambda: timed(client, "patch", f"/api/memory/{ids[i]}", headers,
                                                        {"importance": 0.7}),
                "DELETE /api/memory/<id>": lambda: timed(client, "delete", f"/api/memory/{ids[-1 - i]}", headers),
                "GET /api/topics/tree": lambda: timed(client, "get", f"/api/topics/tree?project={project.pk}", headers),
                "GET /api/graph?limit=100": lambda: timed(client, "get", f"/api/graph?project={project.pk}&limit=100",
                                                          headers),
                "GET /api/sessions/<id>/context (cached)": lambda: timed(client, "get",
                                                                         f"/api/sessions/{session.pk}/context", headers),
                "GET /api/search": lambda: timed(client, "get", f"/api/search?q={rng.choice(SUBJECTS).replace(' ', '+')}"
                                                 f"&project={project.pk}", headers),
                "POST /api/memory": lambda: timed(client, "post", "/api/memory", headers,
                                                  {"project": project.pk, "content": f"bench note {i}"}),
            }
            for name, measure in measures.items():
                value = measure()
                if not warm:
                    samples[name].append(value)
        from memory.search.hybrid import EF_SEARCH

        recall_queries = [rng.choice(base_texts) for _ in range(50)] + sentences(50, random.Random(9))
        recall_default = recall_at_10(project, recall_queries, 40)  # pgvector's default hnsw.ef_search
        recall = recall_at_10(project, recall_queries, EF_SEARCH)  # what search sets
        from django.db import connections

        connections.close_all()
    finally:
        services.destroy()

    print(f"loaded {options.memories:,} memories in {load_s:.0f} s (HNSW build {index_s:.0f} s)")
    print(f"{'endpoint':42} {'p50 ms':>8} {'p95 ms':>8} {'goal ms':>8}")
    worst = None
    for name, values in samples.items():
        p50 = statistics.median(values)
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        goal = TARGETS.get(name, 0) / 5
        ok = "" if name not in TARGETS else ("ok" if p95 <= goal else "MISSED")
        if name in TARGETS:
            worst = max(worst or 0, p95 / goal)
        print(f"{name:42} {p50:8.1f} {p95:8.1f} {goal or '-':>8} {ok}")
    print(f"HNSW recall@10 vs exact: {recall:.3f} at the search's ef_search={EF_SEARCH}, "
          f"{recall_default:.3f} at pgvector's default 40 (100 queries)")
    print(f"api_latency: memories={options.memories} worst_p95_over_goal={worst:.2f} recall_at_10={recall:.3f} "
          f"goal(p95<=target/5)={'ok' if worst <= 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
