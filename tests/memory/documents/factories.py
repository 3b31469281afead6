"""Documents stored the way uploads are, and the workspace they live in."""

import io

from django.contrib.auth.models import Permission

from memory.documents.processing import store_upload
from tests.memory.factories import make_workspace


def upload(workspace, data, name="file.bin", user=None, priority=0, project=None):
    document, _ = store_upload(workspace, io.BytesIO(data), name, uploaded_by=user, priority=priority, project=project)
    return document


def make_validator(workspace, username):
    from django.contrib.auth.models import User

    from memory.models import Membership

    user = User.objects.create_user(username, f"{username}@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(codename="change_validationtask"))
    Membership.objects.create(workspace=workspace, user=user)
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


__all__ = ["make_validator", "make_workspace", "upload"]
