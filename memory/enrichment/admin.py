"""Admin for the topic tree."""

from django.contrib import admin

from memory.enrichment.topics import Topic
from memory.core.admin_scoping import WorkspaceScoped


@admin.register(Topic)
class TopicAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["name", "project", "parent", "depth"]
    list_filter = [("project", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    readonly_fields = ["path", "depth"]
