"""Admin for the memory domain: browse and search; the task actions come with the job catalog."""

from django.contrib import admin

from .models import Anomaly, Decision, Entity, EntityMerge, Memory, Membership, Project, Reflection, Relation, Session, Topic, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "slug", "created_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "slug"]
    list_select_related = ["workspace"]


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = ["short_content", "project", "layer", "source", "importance", "strength", "embedded", "created_at"]
    list_filter = ["layer", "source", "workspace", ("embedding", admin.EmptyFieldListFilter)]
    search_fields = ["content"]
    list_select_related = ["project__workspace"]
    readonly_fields = ["content_hash", "embedding_model", "embedded_hash", "graph_extracted_at", "access_count",
                       "last_accessed_at", "created_at", "updated_at"]
    exclude = ["embedding"]
    autocomplete_fields = ["topics"]
    show_full_result_count = False

    @admin.display(description="content")
    def short_content(self, memory):
        return memory.content[:80]

    @admin.display(description="embedded", boolean=True)
    def embedded(self, memory):
        return memory.embedding is not None


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "parent", "depth"]
    list_filter = ["project"]
    search_fields = ["name"]
    readonly_fields = ["path", "depth"]


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "project", "canonical", "community"]
    list_filter = ["type", "project"]
    search_fields = ["name", "normalized_name"]
    exclude = ["embedding"]


@admin.register(Relation)
class RelationAdmin(admin.ModelAdmin):
    list_display = ["subject", "predicate", "object", "confidence", "project"]
    list_filter = ["predicate", "project"]
    search_fields = ["subject__name", "object__name", "predicate"]
    list_select_related = ["subject", "object", "project"]


@admin.register(EntityMerge)
class EntityMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_name", "survivor", "reason", "similarity", "relations_moved", "merged_at"]
    list_select_related = ["survivor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "chosen", "quality_score", "decided_at"]
    list_filter = ["project"]
    search_fields = ["title", "context", "rationale"]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["project", "window_start", "window_end", "created_at"]
    list_filter = ["project"]
    search_fields = ["summary"]


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin):
    list_display = ["kind", "metric", "project", "score", "window_start", "detected_at"]
    list_filter = ["kind", "metric"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "user", "last_active_at"]
    list_filter = ["project"]
