"""Admin for documents: browse, reprocess, cancel; validation with its audit trail; upkeep records."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html

from jobs.admin.readonly import ReadOnlyAdminMixin
from jobs.context import triggered_by

from . import validation
from .models import (
    Backup, Chunk, Document, DocumentClassifier, DocumentLabel, DocumentPage, DocumentStatus, HealthCheck,
    SearchQueryLog, ValidationEvent, ValidationStatus, ValidationTask,
)


class ChunkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Chunk
    fields = ["ordinal", "page_start", "page_end", "token_count", "confidence", "excluded", "heading"]
    readonly_fields = fields
    show_change_link = True


class LabelInline(admin.TabularInline):
    model = DocumentLabel
    extra = 0


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "workspace", "detected_type", "status", "page_count", "size", "created_at"]
    list_filter = ["status", "detected_type", "workspace"]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["workspace"]
    readonly_fields = ["sha256", "size", "detected_type", "status", "error_message", "progress_done", "progress_total",
                       "progress_message", "page_count", "language", "processed_at", "created_at", "updated_at"]
    inlines = [LabelInline, ChunkInline]
    actions = ["reprocess", "reindex", "cancel", "retrain_classifier"]

    @admin.action(description="Process again from the stored file", permissions=["change"])
    def reprocess(self, request, queryset):
        from .tasks import process_document

        ids = [document.pk for document in queryset.exclude(file="") if document.reopen()]
        with triggered_by(user=request.user):
            process_document.enqueue_many([(pk,) for pk in ids])
        self.message_user(request, f"Enqueued processing of {len(ids)} document(s).", messages.SUCCESS)

    @admin.action(description="Reindex (re-chunk and re-embed)", permissions=["change"])
    def reindex(self, request, queryset):
        from .tasks import reindex_document

        ids = list(queryset.filter(status=DocumentStatus.COMPLETED).values_list("pk", flat=True))
        with triggered_by(user=request.user):
            reindex_document.enqueue_many([(pk,) for pk in ids])
        self.message_user(request, f"Enqueued reindexing of {len(ids)} document(s).", messages.SUCCESS)

    @admin.action(description="Retrain the classifier of these documents' workspaces", permissions=["change"])
    def retrain_classifier(self, request, queryset):
        from .tasks import retrain_classifier

        ids = sorted(set(queryset.values_list("workspace_id", flat=True)))
        with triggered_by(user=request.user):
            retrain_classifier.enqueue_many([(pk,) for pk in ids])
        self.message_user(request, f"Enqueued retraining for {len(ids)} workspace(s).", messages.SUCCESS)

    @admin.action(description="Cancel processing", permissions=["change"])
    def cancel(self, request, queryset):
        count = sum(1 for document in queryset.active() if document.cancel())
        self.message_user(request, f"Cancelled {count} document(s).", messages.SUCCESS)


@admin.register(DocumentPage)
class DocumentPageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["document", "number", "route", "confidence"]
    list_filter = ["route"]
    list_select_related = ["document"]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["document", "ordinal", "page_start", "page_end", "token_count", "confidence", "excluded"]
    list_filter = ["excluded"]
    search_fields = ["text"]
    list_select_related = ["document"]
    readonly_fields = ["document", "ordinal", "text_hash", "embedding_model", "embedded_hash"]
    exclude = ["embedding"]


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ValidationEvent
    fields = ["at", "actor", "action", "before_status", "before_text", "after_text"]
    readonly_fields = fields


@admin.register(ValidationTask)
class ValidationTaskAdmin(admin.ModelAdmin):
    list_display = ["chunk", "assignee", "priority", "status", "decided_by", "decided_at"]
    list_filter = ["status", "assignee"]
    list_select_related = ["chunk__document", "assignee", "decided_by"]
    readonly_fields = ["chunk", "status", "correction", "decided_by", "decided_at", "created_at"]
    inlines = [EventInline]
    actions = ["approve_selected", "reject_selected"]

    def _decide(self, request, queryset, decision):
        count = validation.decide_many(queryset.pending(), request.user, decision)
        self.message_user(request, f"{decision.label}: {count} task(s).", messages.SUCCESS)

    @admin.action(description="Approve selected pending tasks", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, ValidationStatus.APPROVED)

    @admin.action(description="Reject selected pending tasks", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, ValidationStatus.REJECTED)


@admin.register(ValidationEvent)
class ValidationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "task", "actor", "action", "before_status"]
    list_filter = ["action"]
    list_select_related = ["task__chunk__document", "actor"]


@admin.register(DocumentClassifier)
class DocumentClassifierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["workspace", "version", "trained_at", "metrics"]
    exclude = ["centroids"]


class ZeroResultsFilter(admin.SimpleListFilter):
    title = "results"
    parameter_name = "zero"

    def lookups(self, request, model_admin):
        return [("1", "No results")]

    def queryset(self, request, queryset):
        return queryset.filter(results=0) if self.value() == "1" else queryset


@admin.register(SearchQueryLog)
class SearchQueryLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The query log, with search analytics (top and zero-result queries) above it."""

    list_display = ["created_at", "query", "user", "results", "cached", "took_ms"]
    list_filter = [ZeroResultsFilter, "cached"]
    search_fields = ["query"]
    list_select_related = ["user"]
    show_full_result_count = False
    change_list_template = "admin/memory/searchquerylog/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **search_analytics()}
        return super().changelist_view(request, extra_context)


def search_analytics(limit=10):
    rows = SearchQueryLog.objects.values("query").annotate(
        count=Count("pk"), zero=Count("pk", filter=Q(results=0)))
    return {
        "top_queries": list(rows.order_by("-count", "query")[:limit]),
        "zero_result_queries": list(rows.filter(zero__gt=0).order_by("-zero", "query")[:limit]),
    }


@admin.register(HealthCheck)
class HealthCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["checked_at", "status", "summary"]
    list_filter = ["ok"]

    @admin.display(description="ok")
    def status(self, obj):
        return format_html('<b style="color:{}">{}</b>', "green" if obj.ok else "#c00", "healthy" if obj.ok else "failing")

    def summary(self, obj):
        return ", ".join(f"{name}: {'ok' if r['ok'] else r['detail']}" for name, r in obj.results.items())


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "status", "size", "took_s", "database_path"]
    list_filter = ["status"]
