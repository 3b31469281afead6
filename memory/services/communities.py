"""Community detection: group a project's entities by how densely their relations connect them."""

import logging

import networkx as nx
from networkx.algorithms.community import louvain_communities

from ..models import Entity, Relation

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


def detect_communities(project):
    """Store Louvain community ids (0 = largest) on the project's entities; return the counts."""
    graph = build_graph(project)
    groups = louvain_communities(graph, weight="weight", seed=SEED) if graph.number_of_nodes() else []
    # Largest first, ties by lowest entity id, so ids are stable for an unchanged graph.
    groups = sorted(groups, key=lambda group: (-len(group), min(group)))
    community_of = {pk: number for number, group in enumerate(groups) for pk in group}
    entities = list(Entity.objects.filter(project=project).only("pk", "community", "canonical_id"))
    for entity in entities:
        # Merged entities belong to no community: their survivor stands for them.
        entity.community = community_of.get(entity.pk)
    Entity.objects.bulk_update(entities, ["community"], batch_size=1000)
    logger.info("graph: %d communities over %d entities in project %s", len(groups), len(community_of), project.pk)
    return {"communities": len(groups), "entities": len(community_of)}
