"""What the graph on the memory page shows when a node is clicked: the entity and its memories."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from memory.models import Entity, Memory, Relation
from memory.pages.highlight import snippet
from memory.pages.notes import page_of

ENTITY_MEMORIES = 50
ENTITY_SNIPPET_CHARS = 200


@login_required
@require_GET
def entity_memories(request, entity_id):
    """The entity, a link to its own project's page, and the memories its relations were read from."""
    entity = get_object_or_404(Entity.objects.visible_to(request.user).select_related("project__workspace"),
                               pk=entity_id)
    # Relations of an entity merged into this one were moved here; those naming it are its evidence.
    sources = (Relation.objects.filter(Q(subject=entity) | Q(object=entity), source_memory__isnull=False)
               .values("source_memory_id"))
    memories = (Memory.objects.searchable_by(request.user).filter(pk__in=sources)
                .only("id", "content", "created_at").order_by("-created_at", "-id")[:ENTITY_MEMORIES])
    project = entity.project
    return JsonResponse({
        "id": entity.pk,
        "name": entity.name,
        "type": entity.type,
        "project": {"id": project.pk, "name": project.name, "workspace": project.workspace.name,
                    "url": page_of(project)},
        "memories": [{"id": m.pk, "content": snippet(m.content, ENTITY_SNIPPET_CHARS),
                      "created_at": m.created_at.isoformat(), "url": reverse("memory:detail", args=[m.pk])}
                     for m in memories],
    })
