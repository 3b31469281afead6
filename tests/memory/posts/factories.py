"""Plain factories for the posts tests."""

from django.db import transaction

from memory.posts.intake import parse_post, validated
from memory.posts.models import Post


def make_post(workspace, text="Acme Corp ships PostgreSQL 17 support for the billing service", external_id="1",
              source=Post.Source.API, **fields):
    """A post through the intake (links found in the text), as the API would store it."""
    with transaction.atomic():
        return parse_post(workspace, validated({"external_id": external_id, "text": text, **fields}, source))[1]
