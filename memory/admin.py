"""Admin for the memory domain: browse and search, and actions that enqueue the domain's jobs."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from jobs.admin.readonly import ReadOnlyAdminMixin
from jobs.context import triggered_by

from .models import (
    Anomaly, ApiToken, Decision, Entity, EntityMerge, Memory, Membership, Project, Reflection, Relation, Session, Topic,
    Workspace,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


def enqueue_for_each(modeladmin, request, task, ids, label):
    """Enqueue `task` once per id as the operator; report the runs with links to them."""
    with triggered_by(user=request.user):
        results = task.enqueue_many([(pk,) for pk in ids])
    links = format_html_join(", ", '<a href="{}">{}</a>', (
        (reverse("admin:jobs_jobrun_change", args=[r.id]), r.id[:8]) for r in results[:20]))
    modeladmin.message_user(request, format_html("Enqueued {} {} run(s): {}", len(results), label, links),
                            messages.SUCCESS)


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
    readonly_fields = ["graph_version", "communities_version"]
    actions = ["resolve_entities_now", "generate_reflection_now", "detect_communities_now", "rebuild_context_now"]

    @admin.action(description="Rebuild session contexts now", permissions=["change"])
    def rebuild_context_now(self, request, queryset):
        from .tasks import rebuild_context_cache

        enqueue_for_each(self, request, rebuild_context_cache, list(queryset.values_list("pk", flat=True)),
                         "context rebuild")

    @admin.action(description="Resolve entities now", permissions=["change"])
    def resolve_entities_now(self, request, queryset):
        from .tasks import resolve_entities_batch

        enqueue_for_each(self, request, resolve_entities_batch, list(queryset.values_list("pk", flat=True)),
                         "entity resolution")

    @admin.action(description="Generate a reflection now", permissions=["change"])
    def generate_reflection_now(self, request, queryset):
        from .tasks import generate_reflection_for_project

        enqueue_for_each(self, request, generate_reflection_for_project, list(queryset.values_list("pk", flat=True)),
                         "reflection")

    @admin.action(description="Detect communities now", permissions=["change"])
    def detect_communities_now(self, request, queryset):
        from .tasks import detect_communities

        enqueue_for_each(self, request, detect_communities, list(queryset.values_list("pk", flat=True)),
                         "community detection")


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = ["short_content", "project", "layer", "source", "importance", "strength", "embedded", "created_at"]
    list_filter = ["layer", "source", "workspace", ("embedding", admin.EmptyFieldListFilter)]
    search_fields = ["content"]
    list_select_related = ["project__workspace"]
    readonly_fields = ["content_hash", "embedding_model", "embedded_hash", "graph_extracted_at",
                       "graph_extracted_hash", "graph_claimed_until", "access_count", "last_accessed_at",
                       "created_at", "updated_at"]
    exclude = ["embedding"]
    autocomplete_fields = ["topics"]
    show_full_result_count = False
    actions = ["re_embed", "re_extract_topics", "extract_graph_now"]

    @admin.action(description="Re-embed (skips unchanged content and model)", permissions=["change"])
    def re_embed(self, request, queryset):
        from .tasks import embed_batch

        ids = list(queryset.values_list("pk", flat=True)[:10_000])
        with triggered_by(user=request.user):
            result = embed_batch.enqueue(ids)
        self.message_user(request, format_html('Enqueued one embedding run for {} memories: <a href="{}">{}</a>',
                                               len(ids), reverse("admin:jobs_jobrun_change", args=[result.id]),
                                               result.id[:8]), messages.SUCCESS)

    @admin.action(description="Re-extract topics", permissions=["change"])
    def re_extract_topics(self, request, queryset):
        from .tasks import extract_topics

        enqueue_for_each(self, request, extract_topics, list(queryset.values_list("pk", flat=True)[:1000]), "topic")

    @admin.action(description="Extract the knowledge graph now", permissions=["change"])
    def extract_graph_now(self, request, queryset):
        from .tasks import extract_graph_lazy

        enqueue_for_each(self, request, extract_graph_lazy, list(queryset.values_list("pk", flat=True)[:1000]), "graph")

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
class EntityMergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # an audit trail
    list_display = ["merged_name", "survivor", "reason", "similarity", "relations_moved", "merged_at"]
    list_select_related = ["survivor"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "chosen", "quality_score", "decided_at"]
    list_filter = ["project"]
    search_fields = ["title", "context", "rationale"]
    readonly_fields = ["quality_score", "findings", "analyzed_at"]
    actions = ["analyze_now"]

    @admin.action(description="Analyze now", permissions=["change"])
    def analyze_now(self, request, queryset):
        from .tasks import analyze_decision

        enqueue_for_each(self, request, analyze_decision, list(queryset.values_list("pk", flat=True)), "analysis")


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued from the shell (`ApiToken.issue(user, name)` shows the secret once); here they are revoked."""

    list_display = ["name", "user", "created_at", "last_used_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    exclude = ["key"]  # only the secret's hash is stored, and even that stays out of the page

    def has_add_permission(self, request):
        return False
from memory.chats import admin as chats_admin  # noqa: E402,F401  (chats: registers its ModelAdmins)
