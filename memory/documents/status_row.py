"""The documents' health check as a row of the jobs dashboard (registered in MemoryConfig.ready)."""

from django.urls import NoReverseMatch, reverse

from jobs.dashboard_rows import StatusRow

from .models import HealthCheck


def health_row():
    """The latest maintenance health check (storage, database, Redis, workers), or None before the first."""
    check = HealthCheck.objects.order_by("-checked_at").first()
    if check is None:
        return None
    try:
        link = reverse("admin:memory_healthcheck_changelist")
    except NoReverseMatch:
        link = ""
    parts = [(name, bool(result.get("ok")), str(result.get("detail", ""))) for name, result in check.results.items()]
    return StatusRow(title="Documents health", ok=check.ok, checked_at=check.checked_at, parts=parts, link=link)
