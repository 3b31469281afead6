"""Admin for sessions."""

from django.contrib import admin

from memory.sessions.models import Session
from memory.core.admin_scoping import WorkspaceScoped


@admin.register(Session)
class SessionAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["__str__", "project", "user", "last_active_at"]
    list_filter = [("project", admin.RelatedOnlyFieldListFilter)]
