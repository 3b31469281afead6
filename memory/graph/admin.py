"""Admin for the knowledge graph: entities, relations and the audit trail of entity merges."""

from django.contrib import admin

from jobs.admin.readonly import ReadOnlyAdminMixin
from memory.graph.models import Entity, EntityMerge, Relation
from memory.core.admin_scoping import WorkspaceScoped


@admin.register(Entity)
class EntityAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["name", "type", "project", "canonical", "community"]
    list_filter = ["type", ("project", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "normalized_name"]
    exclude = ["embedding"]


@admin.register(Relation)
class RelationAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["subject", "predicate", "object", "confidence", "project"]
    list_filter = ["predicate", ("project", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subject__name", "object__name", "predicate"]
    list_select_related = ["subject", "object", "project"]


@admin.register(EntityMerge)
class EntityMergeAdmin(WorkspaceScoped, ReadOnlyAdminMixin, admin.ModelAdmin):  # an audit trail
    list_display = ["merged_name", "survivor", "reason", "similarity", "relations_moved", "merged_at"]
    list_select_related = ["survivor"]
