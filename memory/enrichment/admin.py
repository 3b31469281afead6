"""Admin for the topic tree."""

from django.contrib import admin

from memory.enrichment.topics import Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "parent", "depth"]
    list_filter = ["project"]
    search_fields = ["name"]
    readonly_fields = ["path", "depth"]
