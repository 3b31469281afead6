"""POST /api/posts: a batch of up to 1,000 posts for one workspace, stored all or nothing."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse

from memory.core.api_auth import InvalidInput, api_view, json_body
from memory.models import Workspace

from .intake import InvalidPost, parse_batch
from .models import Post

MAX_BATCH = 1000


def target_workspace(user, value):
    """The workspace the posts go to: the one named, or the token's, which the user must be able to write."""
    scope = getattr(user, "token_scope", None)
    if value is None and scope is not None and scope[0] is not None:
        value = scope[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput({"workspace": ["Give the workspace id (an integer)."]})
    if not Workspace.objects.visible_to(user).filter(pk=value).exists():
        raise InvalidInput({"workspace": ["No such workspace."]})
    workspace = Workspace.objects.editable_by(user).filter(pk=value).first()
    if workspace is None:
        raise PermissionDenied
    return workspace


@api_view("POST")
def post_collection(request):
    """Store posts ({"workspace": id, "posts": [{external_id, text, channel?, links?, published_at?}]})."""
    body = json_body(request)
    items = body.get("posts")
    if not isinstance(items, list) or not items:
        raise InvalidInput({"posts": ["Give a non-empty list of posts."]})
    if len(items) > MAX_BATCH:
        raise InvalidInput({"posts": [f"At most {MAX_BATCH} posts per request, got {len(items)}."]})
    workspace = target_workspace(request.user, body.get("workspace"))
    try:
        results = parse_batch(workspace, items, Post.Source.API)
    except InvalidPost as exc:
        # One field per bad item ("posts[3]": [reason]), the shape every memory API error has.
        raise InvalidInput({f"posts[{index}]": reasons for index, reasons in exc.args[0].items()}) from None
    counts = {"created": 0, "updated": 0, "duplicate": 0}
    for outcome, _ in results:
        counts[outcome] += 1
    return JsonResponse({"results": [{"id": post.pk, "external_id": post.external_id, "outcome": outcome}
                                     for outcome, post in results], **counts},
                        status=201 if counts["created"] else 200)
