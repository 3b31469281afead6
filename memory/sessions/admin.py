"""Admin for sessions."""

from django.contrib import admin

from memory.sessions.models import Session


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "user", "last_active_at"]
    list_filter = ["project"]
