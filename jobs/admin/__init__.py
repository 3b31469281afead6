"""Admin for the job platform: one module per area."""

from . import runs  # noqa: F401 - registers the run admin
