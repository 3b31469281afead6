"""The memory page: hybrid search, the topic tree, the entity graph and the latest reflections."""

import math

import networkx as nx
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from memory.models import Entity, Memory, Project, Reflection, Relation, Topic
from memory.search.hybrid import hybrid_search

GRAPH_NODES = 40
SVG_SIZE = 640


def _topic_tree(topics):
    """Nest topics (ordered by path) as [{"topic": t, "children": [...]}, ...]."""
    nodes, roots = {}, []
    for topic in topics:
        node = nodes[topic.pk] = {"topic": topic, "children": []}
        (nodes[topic.parent_id]["children"] if topic.parent_id in nodes else roots).append(node)
    return roots


def _graph_svg(project):
    """Lay out the most connected entities with a seeded spring layout (deterministic) as SVG data."""
    entities = list(Entity.objects.filter(project=project, canonical__isnull=True)
                    .annotate(degree=Count("outgoing", distinct=True) + Count("incoming", distinct=True))
                    .filter(degree__gt=0).order_by("-degree", "name")[:GRAPH_NODES])
    ids = {e.pk for e in entities}
    edges = list(Relation.objects.filter(project=project, subject_id__in=ids, object_id__in=ids)
                 .values_list("subject_id", "object_id", "predicate"))
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((s, o) for s, o, _ in edges if s != o)
    positions = nx.spring_layout(graph, seed=7) if ids else {}
    margin, span = 60, SVG_SIZE - 120

    def xy(pk):
        x, y = positions[pk]
        return margin + (x + 1) / 2 * span, margin + (y + 1) / 2 * span

    nodes = [{"entity": e, "x": xy(e.pk)[0], "y": xy(e.pk)[1], "r": 6 + 2 * math.sqrt(e.degree)} for e in entities]
    lines = [{"x1": xy(s)[0], "y1": xy(s)[1], "x2": xy(o)[0], "y2": xy(o)[1], "label": p}
             for s, o, p in edges if s != o]
    return {"nodes": nodes, "edges": lines, "size": SVG_SIZE}


@login_required
def memory_page(request):
    projects = Project.objects.visible_to(request.user).select_related("workspace")
    wanted = request.GET.get("project", "")
    # A project id that is not a number (or not one of theirs) shows their first project, like none.
    project = (projects.filter(pk=int(wanted)).first() if wanted.isdecimal() and len(wanted) < 19 else None) \
        or projects.first()
    # The query box is capped like the API's `q` (NUL never gets here: project.middleware answers 400).
    query = request.GET.get("q", "").strip()[:2000]
    context = {"projects": projects, "project": project, "query": query}
    if project is not None:
        memories = Memory.objects.searchable_by(request.user).filter(project=project)
        context.update(
            hits=hybrid_search(memories, query, limit=10) if query else None,
            recent=memories.filter(~Q(layer="sensory"))[:10] if not query else None,
            tree=_topic_tree(Topic.objects.filter(project=project).order_by("path")[:300]),
            graph=_graph_svg(project),
            reflections=Reflection.objects.filter(project=project)[:3],
        )
    return render(request, "memory/memory.html", context)
