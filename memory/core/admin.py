"""Admin for workspaces, projects, memories and API tokens; actions enqueue the other capabilities' jobs."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from jobs.context import triggered_by

from memory.core.memories import Memory
from memory.core.tenancy import Membership, Project, Workspace
from memory.core.tokens import ApiToken
from memory.enrichment.tasks import embed_batch, extract_topics
from memory.graph.tasks import detect_communities, extract_graph_lazy, resolve_entities_batch
from memory.insights.tasks import generate_reflection_for_project
from memory.sessions.tasks import rebuild_context_cache
from memory.core.admin_scoping import WorkspaceScoped


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
class WorkspaceAdmin(WorkspaceScoped, admin.ModelAdmin):
    writers = "administered_by"  # a workspace and its members are managed by its admins
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["name", "workspace", "slug", "created_at"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    list_select_related = ["workspace"]
    readonly_fields = ["graph_version", "communities_version"]
    actions = ["resolve_entities_now", "generate_reflection_now", "detect_communities_now", "rebuild_context_now"]

    @admin.action(description="Rebuild session contexts now", permissions=["change"])
    def rebuild_context_now(self, request, queryset):

        enqueue_for_each(self, request, rebuild_context_cache, list(queryset.values_list("pk", flat=True)),
                         "context rebuild")

    @admin.action(description="Resolve entities now", permissions=["change"])
    def resolve_entities_now(self, request, queryset):

        enqueue_for_each(self, request, resolve_entities_batch, list(queryset.values_list("pk", flat=True)),
                         "entity resolution")

    @admin.action(description="Generate a reflection now", permissions=["change"])
    def generate_reflection_now(self, request, queryset):

        enqueue_for_each(self, request, generate_reflection_for_project, list(queryset.values_list("pk", flat=True)),
                         "reflection")

    @admin.action(description="Detect communities now", permissions=["change"])
    def detect_communities_now(self, request, queryset):

        enqueue_for_each(self, request, detect_communities, list(queryset.values_list("pk", flat=True)),
                         "community detection")


@admin.register(Memory)
class MemoryAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["short_content", "project", "layer", "source", "importance", "strength", "embedded", "created_at"]
    list_filter = ["layer", "source", ("workspace", admin.RelatedOnlyFieldListFilter), ("embedding", admin.EmptyFieldListFilter)]
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

        ids = list(queryset.values_list("pk", flat=True)[:10_000])
        with triggered_by(user=request.user):
            result = embed_batch.enqueue(ids)
        self.message_user(request, format_html('Enqueued one embedding run for {} memories: <a href="{}">{}</a>',
                                               len(ids), reverse("admin:jobs_jobrun_change", args=[result.id]),
                                               result.id[:8]), messages.SUCCESS)

    @admin.action(description="Re-extract topics", permissions=["change"])
    def re_extract_topics(self, request, queryset):

        enqueue_for_each(self, request, extract_topics, list(queryset.values_list("pk", flat=True)[:1000]), "topic")

    @admin.action(description="Extract the knowledge graph now", permissions=["change"])
    def extract_graph_now(self, request, queryset):

        enqueue_for_each(self, request, extract_graph_lazy, list(queryset.values_list("pk", flat=True)[:1000]), "graph")

    @admin.display(description="content")
    def short_content(self, memory):
        return memory.content[:80]

    @admin.display(description="embedded", boolean=True)
    def embedded(self, memory):
        return memory.embedding is not None


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `manage.py api_tokens issue` (the secret shows once); here they are revoked.

    A user sees their own tokens; superusers see everyone's.
    """

    list_display = ["name", "user", "workspace", "role", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "name", "prefix", "workspace", "role", "created_at", "expires_at", "last_used_at",
                       "revoked_at"]
    exclude = ["key"]  # only the secret's hash is stored, and even that stays out of the page
    actions = ["revoke"]

    def get_queryset(self, request):
        tokens = super().get_queryset(request).select_related("user", "workspace")
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke (the token stops working at once)", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
