"""Workspaces (tenants), their members and projects: every domain row belongs to one workspace."""

from django.conf import settings
from django.db import models


class ScopedQuerySet(models.QuerySet):
    """Rows of workspaces a user may see: all for superusers, their workspaces' for members, none otherwise.

    Every API view, page and admin filters through visible_to() (reads) and editable_by() (writes);
    subclasses only say how a row reaches its workspace (`workspace_field`). `is_staff` opens the admin
    site and nothing else: a staff user sees the workspaces they are a member of, like anyone.
    """

    workspace_field = "workspace_id"

    def visible_to(self, user):
        """Rows in workspaces where `user` holds any role."""
        return self._with_role(user, Membership.Role.values)

    def editable_by(self, user):
        """Rows in workspaces where `user` may write (editor or admin; a viewer only reads)."""
        return self._with_role(user, Membership.WRITER_ROLES)

    def administered_by(self, user):
        """Rows in workspaces where `user` is an admin (manages members and the workspace)."""
        return self._with_role(user, [Membership.Role.OWNER])

    def _with_role(self, user, roles):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        scope = getattr(user, "token_scope", None)  # (workspace id, role) of an API token
        if scope is not None:
            if scope[1] not in roles:
                return self.none()
            rows = self.filter(**{self.workspace_field: scope[0]}) if scope[0] is not None else self
            # The token never gives more than its user holds today.
            return rows if user.is_superuser else rows.filter(
                **{f"{self.workspace_field}__in": Membership.objects.filter(user=user, role__in=roles)
                   .values("workspace_id")})
        if user.is_superuser:
            return self
        # A subquery, not a join: a user with several matching memberships never duplicates a row.
        workspaces = Membership.objects.filter(user=user, role__in=roles).values("workspace_id")
        return self.filter(**{f"{self.workspace_field}__in": workspaces})


class WorkspaceQuerySet(ScopedQuerySet):
    workspace_field = "pk"


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
        # Stored values kept from before roles had these names: "member" is an editor, "owner" an admin.
        VIEWER = "viewer", "Viewer (reads)"
        MEMBER = "member", "Editor (reads and writes)"
        OWNER = "owner", "Admin (reads, writes, manages members)"

    WRITER_ROLES = (Role.MEMBER, Role.OWNER)

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
