"""A member's notes on the memory page: write one, read and edit one, delete one after confirming.

Reading follows Memory.objects.visible_to (any role in the workspace); writing follows
editable_by (a viewer reads only and is answered 403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from memory.core.recording import change_memory, record_memory
from memory.models import Memory, Project, Source
from memory.pages.forms import NewNoteForm, NoteForm, tags_of


def page_of(project):
    return f"{reverse('memory:page')}?{urlencode({'project': project.pk})}"


def with_tags(metadata, tags):
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    if tags:
        metadata["tags"] = tags
    else:
        metadata.pop("tags", None)
    return metadata


@login_required
@require_http_methods(["GET", "POST"])
def new_note(request):
    writable = Project.objects.editable_by(request.user).select_related("workspace")
    if not writable.exists():
        raise PermissionDenied  # a viewer (or a user of no workspace) writes nothing
    form = NewNoteForm(request.POST or None, projects=writable, initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        memory = record_memory(data["project"], data["content"], layer=data["kind"], source=Source.NOTE,
                               metadata=with_tags({}, data["tags"]))
        messages.success(request, "Note saved.")
        return redirect("memory:detail", pk=memory.pk)
    return render(request, "memory/pages/new_note.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def memory_detail(request, pk):
    memory = get_object_or_404(Memory.objects.visible_to(request.user).select_related("project__workspace")
                               .defer("embedding", "search_vector"), pk=pk)
    editable = Memory.objects.editable_by(request.user).filter(pk=memory.pk).exists()
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = None
    if editable:
        initial = {"content": memory.content, "kind": memory.layer, "tags": ", ".join(tags_of(memory))}
        form = NoteForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            change_memory(memory, content=data["content"], layer=data["kind"],
                          metadata=with_tags(memory.metadata, data["tags"]))
            messages.success(request, "Note updated.")
            return redirect("memory:detail", pk=memory.pk)
    return render(request, "memory/pages/detail.html", {
        "memory": memory, "form": form, "editable": editable, "tags": tags_of(memory),
        "topics": memory.topics.order_by("path"), "project_page": page_of(memory.project),
    })


@login_required
@require_http_methods(["GET", "POST"])
def delete_memory(request, pk):
    memory = get_object_or_404(Memory.objects.visible_to(request.user).select_related("project__workspace")
                               .defer("embedding", "search_vector"), pk=pk)
    if not Memory.objects.editable_by(request.user).filter(pk=memory.pk).exists():
        raise PermissionDenied
    if request.method == "POST":
        project = memory.project
        memory.delete()
        messages.success(request, "Note deleted.")
        return redirect(page_of(project))
    return render(request, "memory/pages/delete.html", {"memory": memory})
