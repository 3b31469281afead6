"""Status rows other apps show on the jobs dashboard, without jobs/ importing them.

An app registers a function at start-up (in its AppConfig.ready):

    from jobs.dashboard_rows import register_status_row
    register_status_row("documents", latest_documents_health)

The function takes no argument and returns None (nothing to show yet) or a `StatusRow`. A row
that raises is shown as failing with the error, so one broken app never breaks the dashboard.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

logger = logging.getLogger("jobs.dashboard")

_ROWS = {}


@dataclass(frozen=True)
class StatusRow:
    title: str
    ok: bool
    checked_at: datetime | None = None
    # (name, ok, detail) per part, e.g. ("storage", True, "writable").
    parts: list[tuple[str, bool, str]] = field(default_factory=list)
    link: str = ""


def register_status_row(name, provider):
    """Show `provider()`'s row on the dashboard under `name` (registering a name again replaces it)."""
    if not callable(provider):
        raise TypeError(f"status row {name!r}: the provider must be callable")
    _ROWS[name] = provider


def unregister_status_row(name):
    _ROWS.pop(name, None)


def status_rows():
    """Every registered row that has something to show, in registration order."""
    rows = []
    for name, provider in _ROWS.items():
        try:
            row = provider()
        except Exception as exc:  # one app's broken row must not take the dashboard down
            logger.exception("status row %s failed", name)
            row = StatusRow(title=name, ok=False, parts=[("error", False, f"{type(exc).__name__}: {exc}")])
        if row is not None:
            rows.append(row)
    return rows
