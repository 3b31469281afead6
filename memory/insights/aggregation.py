"""Aggregation: recurring episodes of a day become one semantic memory that summarises them."""

from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from memory.models import Layer, Memory, Project, Source
from memory.providers.text_generation import get_text_generator
from memory.core.recording import record_memory

SIMILARITY = 0.6  # cosine between an episode and a cluster's first member
MIN_CLUSTER = 3  # fewer episodes are not a pattern worth a semantic memory


def _clusters(memories):
    """Greedy clusters of memories whose embeddings are close to the cluster's seed, largest first."""
    vectors = np.array([m.embedding for m in memories], dtype=np.float32)
    unassigned = list(range(len(memories)))
    clusters = []
    while unassigned:
        seed = unassigned[0]
        close = [i for i in unassigned if float(vectors[seed] @ vectors[i]) >= SIMILARITY]
        clusters.append([memories[i] for i in close])
        unassigned = [i for i in unassigned if i not in close]
    return sorted(clusters, key=len, reverse=True)


def aggregate_project(project, day_start, day_end, generator=None):
    """Write one semantic memory per cluster of similar episodes in the window; return them."""
    episodes = [m for m in Memory.objects.filter(
        project=project, layer=Layer.EPISODIC, created_at__gte=day_start, created_at__lt=day_end,
        embedding__isnull=False,
    ).order_by("created_at") if "aggregated_into" not in m.metadata]
    created = []
    generator = generator or get_text_generator()
    for cluster in _clusters(episodes):
        if len(cluster) < MIN_CLUSTER:
            continue
        summary = generator.summarize([m.content for m in cluster], max_sentences=2)
        with transaction.atomic():
            # Through record_memory: the new memory gets its topics and embedding like any other.
            semantic = record_memory(
                project, summary.summary, layer=Layer.SEMANTIC,
                source=Source.REFLECTION, importance=max(m.importance for m in cluster),
                metadata={"aggregated_from": [m.pk for m in cluster], "window": [day_start.isoformat(), day_end.isoformat()]},
            )
            for member in cluster:
                member.metadata = {**member.metadata, "aggregated_into": semantic.pk}
            Memory.objects.bulk_update(cluster, ["metadata"])
        created.append(semantic)
    return created


def aggregate_memories(now=None):
    """Aggregate yesterday's episodes in every project; return {"projects": n, "created": m}."""
    now = now or timezone.now()
    day_end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day_start = day_end - timedelta(days=1)
    project_ids = (Memory.objects.filter(layer=Layer.EPISODIC, created_at__gte=day_start, created_at__lt=day_end)
                   .values_list("project_id", flat=True).distinct())
    created = 0
    projects = list(Project.objects.filter(pk__in=project_ids))
    for project in projects:
        created += len(aggregate_project(project, day_start, day_end))
    return {"projects": len(projects), "created": created}
