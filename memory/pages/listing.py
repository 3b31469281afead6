"""The memory page: filtered and paged memories or scored search results, the topic tree, the graph."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from memory.models import Memory, Project, Reflection, Topic
from memory.pages.forms import MemoryFilterForm, NewNoteForm, tags_of
from memory.pages.highlight import highlight_all, snippet
from memory.search.hybrid import hybrid_search

PAGE_SIZE = 20
SEARCH_LIMIT = 30
# A result scoring under this fraction of the best one is a weak match: listed, but folded away
# behind "show weaker matches". Fused scores have no absolute scale, so the cut is relative.
WEAK_MATCH_FRACTION = 0.5
TOPIC_TREE_LIMIT = 300


def topic_tree(topics):
    """Nest topics (ordered by path) as [{"topic": t, "children": [...]}, ...]."""
    nodes, roots = {}, []
    for topic in topics:
        node = nodes[topic.pk] = {"topic": topic, "children": []}
        (nodes[topic.parent_id]["children"] if topic.parent_id in nodes else roots).append(node)
    return roots


def filtered(memories, filters):
    """The memories the valid filters allow (a filter with an error is left out, and shown as such)."""
    if filters.get("kind"):
        memories = memories.filter(layer=filters["kind"])
    if filters.get("topic") is not None:
        # The topic and its subtopics: a subtree is a prefix of the path.
        subtree = Topic.objects.filter(project=filters["topic"].project_id, path__startswith=filters["topic"].path)
        # A subquery rather than a join: no duplicate rows, so no DISTINCT under search's ORDER BY.
        tagged = Memory.topics.through.objects.filter(topic__in=subtree).values("memory_id")
        memories = memories.filter(pk__in=tagged)
    if filters.get("since"):
        memories = memories.filter(created_at__date__gte=filters["since"])
    if filters.get("until"):
        memories = memories.filter(created_at__date__lte=filters["until"])
    return memories


def scored(hits, query, using):
    """(strong, weak) results, each {"memory", "score", "relative", "html", "tags"}."""
    best = hits[0].score if hits else 0.0
    texts = highlight_all([snippet(hit.memory.content) for hit in hits], query, using)
    strong, weak = [], []
    for hit, html in zip(hits, texts):
        relative = hit.score / best if best > 0 else 0.0
        result = {"memory": hit.memory, "score": hit.score, "relative": relative, "html": html,
                  "tags": tags_of(hit.memory)}
        (strong if relative >= WEAK_MATCH_FRACTION else weak).append(result)
    return strong, weak


@login_required
def memory_page(request):
    projects = Project.objects.visible_to(request.user).select_related("workspace")
    form = MemoryFilterForm(request.GET, projects=projects)
    form.is_valid()
    filters = form.cleaned_data
    if "project" in form.errors:
        # A project id that is not one of theirs shows their first project, like none.
        del form.errors["project"]
    project = filters.get("project") or projects.first()
    context = {"form": form, "projects": projects, "project": project, "query": filters.get("q") or ""}
    if project is None:
        return render(request, "memory/memory.html", context)
    form.fields["topic"].queryset = Topic.objects.filter(project=project)  # the choices shown: this project's
    memories = filtered(Memory.objects.searchable_by(request.user).filter(project=project), filters)
    if context["query"]:
        hits = hybrid_search(memories, context["query"], limit=SEARCH_LIMIT)
        context["strong"], context["weak"] = scored(hits, context["query"], memories.db)
    else:
        page = Paginator(memories.defer("embedding", "search_vector").prefetch_related("topics")
                         .order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["listed"] = [{"memory": m, "tags": tags_of(m)} for m in page]
    writable = projects.editable_by(request.user)
    if writable.exists():
        context["note_form"] = NewNoteForm(projects=writable, initial={"project": project.pk})
    context.update(
        tree=topic_tree(Topic.objects.filter(project=project).order_by("path")[:TOPIC_TREE_LIMIT]),
        reflections=Reflection.objects.filter(project=project)[:3],
    )
    return render(request, "memory/memory.html", context)
