"""The topic tree of the visible projects, built from one query."""

from django.http import JsonResponse

from memory.models import Topic
from memory.core.api_auth import api_view
from memory.core.api_forms import TopicTreeForm


def topic_tree(topics):
    """Nest topics given in path order (a parent's path is a prefix of, so sorts before, its children's)."""
    nodes, roots = {}, []
    for topic in topics:
        node = nodes[topic.pk] = {"id": topic.pk, "name": topic.name, "project": topic.project_id,
                                  "depth": topic.depth, "children": []}
        parent = nodes.get(topic.parent_id)
        (parent["children"] if parent is not None else roots).append(node)
    return roots


@api_view("GET")
def topics_tree(request):
    """Return the visible topics (optionally of one project) as a nested tree."""
    data = TopicTreeForm(request.GET, user=request.user).validated()
    topics = Topic.objects.visible_to(request.user).only("id", "name", "project_id", "parent_id", "depth", "path")
    if data["project"]:
        topics = topics.filter(project=data["project"])
    return JsonResponse({"results": topic_tree(topics.order_by("path"))})
