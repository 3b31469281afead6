"""Admin for decisions, reflections and anomalies."""

from django.contrib import admin

from memory.core.admin import enqueue_for_each
from memory.insights.decision import Decision
from memory.insights.models import Anomaly, Reflection
from memory.insights.tasks import analyze_decision
from memory.core.admin_scoping import WorkspaceScoped


@admin.register(Decision)
class DecisionAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["title", "project", "chosen", "quality_score", "decided_at"]
    list_filter = [("project", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "context", "rationale"]
    readonly_fields = ["quality_score", "findings", "analyzed_at"]
    actions = ["analyze_now"]

    @admin.action(description="Analyze now", permissions=["change"])
    def analyze_now(self, request, queryset):

        enqueue_for_each(self, request, analyze_decision, list(queryset.values_list("pk", flat=True)), "analysis")


@admin.register(Reflection)
class ReflectionAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["project", "window_start", "window_end", "created_at"]
    list_filter = [("project", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["summary"]


@admin.register(Anomaly)
class AnomalyAdmin(WorkspaceScoped, admin.ModelAdmin):
    list_display = ["kind", "metric", "project", "score", "window_start", "detected_at"]
    list_filter = ["kind", "metric"]
