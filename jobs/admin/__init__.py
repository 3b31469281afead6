"""Admin for the job platform: one module per area."""

from . import operations, runs, schedules, tasks  # noqa: F401 - each module registers its ModelAdmins
