"""Plain factories for the posts tests."""

from memory.posts.intake import PostInput, parse_post
from memory.posts.models import Post


def make_post(workspace, text="Acme Corp ships PostgreSQL 17 support for the billing service", external_id="1",
              source=Post.Source.API, **fields):
    from django.db import transaction

    with transaction.atomic():
        return parse_post(workspace, PostInput(source=source, external_id=external_id, text=text, **fields))[1]
