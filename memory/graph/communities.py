"""Community detection: group a project's entities by how densely their relations connect them."""

import logging

import networkx as nx
from django.db import transaction
from django.db.models import F
from networkx.algorithms.community import louvain_communities

from memory.models import Entity, Project, Relation

logger = logging.getLogger("memory.graph")

# Louvain is randomised; a fixed seed gives the same communities for the same graph on every run.
SEED = 42


def build_graph(project):
    """Return the project's canonical entities as nodes, relations as edges weighted by confidence."""
    graph = nx.Graph()
    graph.add_nodes_from(Entity.objects.filter(project=project, canonical__isnull=True).values_list("pk", flat=True))
    rows = Relation.objects.filter(project=project).values_list("subject_id", "object_id", "confidence")
    for subject, obj, confidence in rows:
        # Merges re-point relations to survivors, so both ends are nodes; skip anything left behind.
        if subject not in graph or obj not in graph:
            continue
        if graph.has_edge(subject, obj):
            # Parallel facts (works_at and joined) strengthen one tie rather than making two.
            graph[subject][obj]["weight"] += confidence
        else:
            graph.add_edge(subject, obj, weight=confidence)
    return graph


def lock_graph(project_id):
    """Lock a project's graph for the rest of the transaction; return its graph version."""
    # Extractions and community detections of one project write one at a time, each taking this
    # lock before any entity row, so two of them never lock entity rows in opposite orders (a
    # deadlock) and the last detection to commit leaves a whole assignment, not a mix of two.
    # NO KEY UPDATE, not UPDATE: every insert of a row that points at the project (a memory, a
    # reflection) takes KEY SHARE on it until its transaction ends, and FOR UPDATE would wait for
    # those and deadlock with them (seen with `make run`: a reflection against an extraction).
    locked = Project.objects.select_for_update(no_key=True).filter(pk=project_id)
    return locked.values_list("graph_version", flat=True).first()


def mark_graph_changed(project_id):
    """Record that a project's graph changed, so its communities are detected again."""
    Project.objects.filter(pk=project_id).update(graph_version=F("graph_version") + 1)


def stale_projects():
    """Return the projects whose graph changed since their communities were last detected."""
    # No index: projects are few, and a partial index on rows that flip in and out of it with
    # every extraction would cost more than the scan.
    return Project.objects.filter(graph_version__gt=F("communities_version")).order_by("pk")


def detect_communities(project):
    """Store Louvain community ids (0 = largest) on the project's entities; return the counts."""
    # The version read before the graph: a change committing after this read bumps the version
    # past it, so the next pass looks again even if this one already saw the change.
    version = Project.objects.filter(pk=project.pk).values_list("graph_version", flat=True).first()
    graph = build_graph(project)
    groups = louvain_communities(graph, weight="weight", seed=SEED) if graph.number_of_nodes() else []
    # Largest first, ties by lowest entity id, so ids are stable for an unchanged graph.
    groups = sorted(groups, key=lambda group: (-len(group), min(group)))
    community_of = {pk: number for number, group in enumerate(groups) for pk in group}
    with transaction.atomic():
        lock_graph(project.pk)
        changed = []
        for entity in Entity.objects.filter(project=project).only("pk", "community", "canonical_id").order_by("pk"):
            # Merged entities belong to no community: their survivor stands for them.
            if entity.community != community_of.get(entity.pk):
                entity.community = community_of.get(entity.pk)
                changed.append(entity)
        # Only the entities whose community moved: an unchanged graph costs no writes.
        Entity.objects.bulk_update(changed, ["community"], batch_size=1000)
        if version is not None:
            Project.objects.filter(pk=project.pk).update(communities_version=version)
    logger.info("graph: %d communities over %d entities in project %s (%d moved)",
                len(groups), len(community_of), project.pk, len(changed))
    return {"communities": len(groups), "entities": len(community_of)}


def detect_stale_communities(progress=None):
    """Detect communities again in every project whose graph changed since the last detection.

    `progress(done, total)` is called after each project. Returns the projects and communities counted.
    """
    projects = list(stale_projects())
    found = 0
    for done, project in enumerate(projects, start=1):
        found += detect_communities(project)["communities"]
        if progress is not None:
            progress(done, len(projects))
    return {"projects": len(projects), "communities": found}
