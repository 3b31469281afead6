"""Memory endpoints: list, create, read, change and delete."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from memory.models import Layer, Memory, Source
from memory.core.recording import change_memory, record_memory
from memory.core.api_auth import api_view, json_body
from memory.core.api_forms import PAGE_SIZE, CursorField, MemoryChangeForm, MemoryCreateForm, MemoryFilterForm

# Hand-written; tests/memory/test_openapi.py keeps it in step with memory/api_urls.py and the responses.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "openapi.json"
FIELDS = ("id", "workspace_id", "project_id", "content", "layer", "source", "importance", "strength",
          "access_count", "last_accessed_at", "expires_at", "created_at", "updated_at", "metadata")


def iso(value):
    return value.isoformat() if value is not None else None


def without_vectors(memories):
    """The memories without the embedding and search vector (only whether it is embedded)."""
    # The 384-float vector is the bulk of a row; the API never shows it, so it never leaves the database.
    embedded = ExpressionWrapper(Q(embedding__isnull=False), output_field=BooleanField())
    return memories.only(*FIELDS).annotate(embedded=embedded)


def memories_for(user):
    """The memories a user may see, as the API shows them."""
    return without_vectors(Memory.objects.visible_to(user))


def memory_json(memory):
    """The API representation of a memory loaded through memories_for() (which annotates `embedded`)."""
    return {
        "id": memory.pk,
        "workspace": memory.workspace_id,
        "project": memory.project_id,
        "content": memory.content,
        "layer": memory.layer,
        "source": memory.source,
        "importance": memory.importance,
        "strength": memory.strength,
        "access_count": memory.access_count,
        "last_accessed_at": iso(memory.last_accessed_at),
        "expires_at": iso(memory.expires_at),
        "created_at": iso(memory.created_at),
        "updated_at": iso(memory.updated_at),
        "metadata": memory.metadata,
        "embedded": memory.embedded,
    }


@api_view("GET", "POST")
def memory_collection(request):
    """List the visible memories, newest first, or record a new one."""
    if request.method == "POST":
        return create_memory(request)
    filters = MemoryFilterForm(request.GET, user=request.user).validated()
    memories = memories_for(request.user)
    if filters["project"]:
        memories = memories.filter(project=filters["project"])
    if filters["layer"]:
        memories = memories.filter(layer=filters["layer"])
    if filters["source"]:
        memories = memories.filter(source=filters["source"])
    if filters["created_after"]:
        memories = memories.filter(created_at__gt=filters["created_after"])
    if filters["created_before"]:
        memories = memories.filter(created_at__lt=filters["created_before"])
    if filters["cursor"]:
        # Keyset pagination: a page costs the same at row 100,000 as at row 0, and inserts do not shift it.
        created_at, pk = filters["cursor"]
        memories = memories.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    limit = filters["limit"] or PAGE_SIZE
    page = list(memories.order_by("-created_at", "-id")[:limit + 1])
    following = None
    if len(page) > limit:
        page = page[:limit]
        params = request.GET.copy()
        params["cursor"] = CursorField.encode(page[-1])
        following = f"{request.path}?{urlencode(params, doseq=True)}"
    return JsonResponse({"results": [memory_json(m) for m in page], "next": following})


def create_memory(request):
    data = MemoryCreateForm(json_body(request), user=request.user).validated()
    memory = record_memory(
        data["project"], data["content"],
        layer=data["layer"] or Layer.EPISODIC, source=data["source"] or Source.API,
        importance=0.5 if data["importance"] is None else data["importance"], metadata=data["metadata"] or {},
    )
    memory.embedded = False
    return JsonResponse(memory_json(memory), status=201)


@api_view("GET", "PATCH", "DELETE")
def memory_detail(request, pk):
    """Read (and count an access to), change or delete one memory."""
    memory = get_object_or_404(memories_for(request.user), pk=pk)
    if request.method != "GET" and not Memory.objects.editable_by(request.user).filter(pk=memory.pk).exists():
        raise PermissionDenied  # a viewer of the workspace (or a viewer token) only reads
    if request.method == "GET":
        now = timezone.now()
        # F() + 1 in the database: concurrent reads each count; the response shows this read's view.
        Memory.objects.filter(pk=memory.pk).update(access_count=F("access_count") + 1, last_accessed_at=now)
        memory.access_count += 1
        memory.last_accessed_at = now
    elif request.method == "PATCH":
        changes = MemoryChangeForm(json_body(request), user=request.user).given()
        if changes:
            change_memory(memory, **changes)
    else:
        memory.delete()
        return HttpResponse(status=204)
    return JsonResponse(memory_json(memory))


@require_safe
def openapi_schema(request):
    """The memory API's OpenAPI 3.1 document (public: it describes, it reveals no memory)."""
    return HttpResponse(SCHEMA_PATH.read_bytes(), content_type="application/json")
