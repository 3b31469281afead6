"""How the job pages show durations, sizes and links to runs."""

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


def human_bytes(size):
    """Format a size in bytes for a table cell: 512 B, 2.0 KiB, 3.4 MiB, 1.2 GiB (None: "-").

    The one size format of the job pages; templates use the `size` filter.
    """
    if size is None or size == "":
        return "-"
    size = max(0.0, float(size))
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "-"  # unreachable: the loop returns at TiB


def run_link(run_id, label=None):
    """Link to a run's admin page (plain text where the run admin is not installed)."""
    try:
        url = reverse("admin:jobs_jobrun_change", args=[run_id])
    except NoReverseMatch:
        return label or str(run_id)
    return format_html('<a href="{}">{}</a>', url, label or run_id)
