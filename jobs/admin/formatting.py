"""How the job admin pages show durations and links to runs."""

from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


def human_seconds(seconds):
    """Format a duration (seconds or a timedelta) for a table cell: 0.42s, 7.5s, 3m 05s, 2h 10m, 4d 3h.

    The one duration format of the job pages: admin columns call it, templates use the
    `duration` filter (`{% load jobs_format %}`).
    """
    if seconds is None or seconds == "":
        return "-"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.2g}s" if seconds < 1 else f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def run_link(run_id, label=None):
    """Link to a run's admin page (plain text where the run admin is not installed)."""
    try:
        url = reverse("admin:jobs_jobrun_change", args=[run_id])
    except NoReverseMatch:
        return label or str(run_id)
    return format_html('<a href="{}">{}</a>', url, label or run_id)
