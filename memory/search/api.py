"""Hybrid (full-text + vector) search over the memories a user may see."""

from django.http import JsonResponse

from memory.search.hybrid import hybrid_search
from memory.core.api_auth import api_view
from memory.core.api_forms import SearchForm
from memory.core.api import memory_json, without_vectors
from memory.models import Memory

DEFAULT_LIMIT = 10


@api_view("GET")
def search(request):
    """Rank the visible, unexpired memories (optionally of one project) for the query `q`."""
    data = SearchForm(request.GET, user=request.user).validated()
    memories = without_vectors(Memory.objects.searchable_by(request.user))
    if data["project"]:
        memories = memories.filter(project=data["project"])
    hits = hybrid_search(memories, data["q"], limit=data["limit"] or DEFAULT_LIMIT)
    return JsonResponse({
        "query": data["q"],
        "results": [{"memory": memory_json(hit.memory), "score": hit.score, "ranks": hit.ranks} for hit in hits],
    })
