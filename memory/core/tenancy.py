"""Workspaces (tenants), their members and projects: every domain row belongs to one workspace."""

from django.conf import settings
from django.db import models


class ScopedQuerySet(models.QuerySet):
    """Rows of workspaces a user may see: all for staff, their own for members, none otherwise.

    Every API view, page and admin filters through visible_to(); subclasses only say how a row
    reaches its workspace's members.
    """

    members_path = "workspace__memberships__user"

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(**{self.members_path: user})


class WorkspaceQuerySet(ScopedQuerySet):
    members_path = "memberships__user"


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        OWNER = "owner", "Owner"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="memory_membership_uniq")]

    def __str__(self):
        return f"{self.user} in {self.workspace}"


class Project(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every change to the project's entity graph (an extraction that changes its edges, a
    # merge); community detection stores the version it read before reading the graph. A counter,
    # not a timestamp: a change that commits while a detection runs can never look older than it.
    graph_version = models.PositiveBigIntegerField(default=0, editable=False)
    communities_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="memory_project_slug_uniq")]

    def __str__(self):
        return f"{self.workspace.slug}/{self.slug}"
