"""Document pages: upload with live progress, list, detail, the validator's queue, and search."""

import mimetypes

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from memory.core.tenancy import Project, Workspace
from . import rendering, validation
from . import search as search_service
from .models import Document, DocumentStatus, HealthCheck, ValidationStatus, ValidationTask
from .processing import store_upload
from .tasks import embed_chunks, process_document

INLINE_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff",
                "text": "text/plain; charset=utf-8", "markdown": "text/plain; charset=utf-8"}
TERMINAL = {DocumentStatus.COMPLETED, DocumentStatus.FAILED, DocumentStatus.CANCELLED}


def _visible_document(request, pk):
    return get_object_or_404(Document.objects.visible_to(request.user).select_related("workspace"), pk=pk)


def _state(document):
    return {"id": document.pk, "name": document.original_name, "status": document.status,
            "status_label": document.get_status_display(), "done": document.progress_done,
            "total": document.progress_total, "message": document.progress_message, "error": document.error_message,
            "terminal": document.status in TERMINAL, "url": reverse("documents:detail", args=[document.pk])}


@login_required
@require_GET
def document_list(request):
    documents = Document.objects.visible_to(request.user).select_related("workspace")[:200]
    return render(request, "memory/documents/list.html", {
        "documents": documents,
        "workspaces": Workspace.objects.visible_to(request.user),
        "projects": Project.objects.editable_by(request.user).select_related("workspace").order_by("workspace__name", "name"),
        "health": HealthCheck.objects.first(),
        "pending_validation": validation.queue_for(request.user).count(),
    })


@login_required
@require_POST
def upload(request):
    """One file per request (the page sends them in parallel); answers with its state as JSON."""
    workspace = Workspace.objects.editable_by(request.user).filter(pk=request.POST.get("workspace")).first()
    if workspace is None:
        raise PermissionDenied("not a workspace you belong to")
    project = None
    if request.POST.get("project"):
        project = Project.objects.filter(workspace=workspace, pk=request.POST["project"]).first() \
            if request.POST["project"].isdigit() else None
        if project is None:
            return HttpResponseBadRequest("the project is not one of the workspace's")
    incoming = request.FILES.get("file")
    if incoming is None:
        return HttpResponseBadRequest("no file")
    document, created = store_upload(workspace, incoming, incoming.name, uploaded_by=request.user, project=project)
    if created and document.status == DocumentStatus.UPLOADED:
        with transaction.atomic():
            process_document.enqueue(document.pk)  # pushed to the workers after commit
    return JsonResponse({**_state(document), "duplicate": not created}, status=201 if created else 200)


@login_required
@require_GET
def states(request):
    """Live progress of the listed documents (the upload page polls this)."""
    try:
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk][:100]
    except ValueError:
        return HttpResponseBadRequest("ids must be numbers")
    documents = Document.objects.visible_to(request.user).filter(pk__in=ids)
    return JsonResponse({"documents": [_state(d) for d in documents]})


@login_required
@require_GET
def detail(request, pk):
    document = _visible_document(request, pk)
    return render(request, "memory/documents/detail.html", {
        "document": document,
        "pages": document.pages.all(),
        "chunks": document.chunks.all(),
        "inline": document.detected_type in INLINE_TYPES,
        "state": _state(document),
    })


@login_required
@require_GET
def original(request, pk):
    """The stored file, inline for PDFs, images and text (shown beside the extracted text)."""
    document = _visible_document(request, pk)
    if not document.file:
        raise Http404("no stored file")
    content_type = INLINE_TYPES.get(document.detected_type) or mimetypes.guess_type(document.original_name)[0]
    response = FileResponse(document.file.open("rb"), content_type=content_type or "application/octet-stream",
                            as_attachment=document.detected_type not in INLINE_TYPES,
                            filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"  # a stored file never runs scripts in our origin
    return response


@login_required
@require_GET
def page_image(request, pk, number):
    """Page `number` of a PDF or image as PNG, to show beside its extracted text."""
    document = _visible_document(request, pk)
    if not document.file or not (document.detected_type == "pdf" or document.is_image):
        raise Http404("no page images for this document")
    with document.file.open("rb") as handle:
        data = handle.read()
    try:
        png = rendering.page_png(document.detected_type, data, number)
    except IndexError:
        raise Http404("no such page") from None
    return HttpResponse(png, content_type="image/png")


@login_required
@require_POST
def cancel(request, pk):
    document = _visible_document(request, pk)
    document.cancel()
    return redirect("documents:detail", pk=pk)


@login_required
@require_GET
def validation_queue(request):
    tasks = list(validation.queue_for(request.user)[:50])
    return render(request, "memory/documents/validation.html", {"tasks": tasks})


DECISIONS = {"approve": ValidationStatus.APPROVED, "correct": ValidationStatus.CORRECTED,
             "reject": ValidationStatus.REJECTED}


@login_required
@require_POST
def decide(request, pk):
    task = get_object_or_404(ValidationTask.objects.filter(assignee=request.user), pk=pk)
    decision = DECISIONS.get(request.POST.get("decision", ""))
    if decision is None:
        return HttpResponseBadRequest("decision must be approve, correct or reject")
    try:
        decided = validation.decide(task, request.user, decision, request.POST.get("correction", ""),
                                     reembed=embed_chunks.enqueue)
    except ValueError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": decided, "task": pk, "status": decision.value})


@login_required
@require_POST
def decide_batch(request):
    decision = DECISIONS.get(request.POST.get("decision", ""))
    if decision not in (ValidationStatus.APPROVED, ValidationStatus.REJECTED):
        return HttpResponseBadRequest("batch decisions are approve or reject")
    tasks = ValidationTask.objects.filter(assignee=request.user, pk__in=request.POST.getlist("task"))
    count = validation.decide_many(tasks.pending(), request.user, decision)
    return JsonResponse({"ok": True, "decided": count})


@login_required
@require_GET
def search_page(request):
    query = request.GET.get("q", "").strip()
    results, cached = search_service.search(request.user, query) if query else (None, False)
    return render(request, "memory/documents/search.html", {"query": query, "results": results, "cached": cached})
