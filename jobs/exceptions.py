"""Exceptions raised inside tasks and by the job platform."""

from django.tasks.exceptions import InvalidTask


class JobCancelled(Exception):
    """The run was cancelled; raised inside the task at its next progress report."""


class SoftTimeLimitExceeded(Exception):
    """The task ran past its soft time limit; raised inside it so it can clean up."""


class HardTimeLimitExceeded(Exception):
    """The task ran past its hard time limit and its process was killed (recorded, never raised)."""


class WorkerLost(Exception):
    """The worker running the task died (recorded, never raised)."""


class WorkerShutdown(BaseException):
    """The worker is shutting down and the task overran the shutdown grace period."""


class InvalidArguments(InvalidTask):
    """The arguments of an enqueue are not JSON-serialisable."""


class RunNotFound(LookupError):
    """No run with that id."""


class TransitionNotAllowed(Exception):
    """The run's status does not allow the requested change."""
