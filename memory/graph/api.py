"""The knowledge graph: the most connected canonical entities and the relations among them."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import JsonResponse

from memory.models import Entity, Relation
from memory.core.api_auth import api_view
from memory.core.api_forms import GraphForm

DEFAULT_LIMIT = 100


def relation_count(field):
    """The number of relations with the outer entity as `field` (subject or object)."""
    counts = (Relation.objects.filter(**{field: OuterRef("pk")}).order_by()
              .values(field).annotate(n=Count("id")).values("n"))
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


@api_view("GET")
def graph(request):
    """Return up to `limit` canonical entities, the most connected first, and the edges among them."""
    data = GraphForm(request.GET, user=request.user).validated()
    entities = Entity.objects.visible_to(request.user).filter(canonical__isnull=True)
    relations = Relation.objects.visible_to(request.user)
    if data["project"]:
        entities = entities.filter(project=data["project"])
        relations = relations.filter(project=data["project"])
    # Two correlated counts rather than Count() over two joins, which would multiply out-by-in edges.
    nodes = list(entities.only("id", "name", "type", "project_id", "community")
                 .annotate(degree=relation_count("subject") + relation_count("object"))
                 .order_by("-degree", "name", "id")[:data["limit"] or DEFAULT_LIMIT])
    ids = [node.pk for node in nodes]
    edges = relations.filter(subject_id__in=ids, object_id__in=ids).only(
        "id", "subject_id", "object_id", "predicate", "confidence").order_by("id")
    return JsonResponse({
        "nodes": [{"id": n.pk, "name": n.name, "type": n.type, "project": n.project_id, "community": n.community,
                   "degree": n.degree} for n in nodes],
        "edges": [{"id": e.pk, "source": e.subject_id, "target": e.object_id, "predicate": e.predicate,
                   "confidence": e.confidence} for e in edges],
    })
