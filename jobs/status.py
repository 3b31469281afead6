"""The vocabularies of the run ledger."""

from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet handed to Redis
    QUEUED = "queued", "Queued"
    SCHEDULED = "scheduled", "Scheduled"  # waiting for run_after or a retry backoff
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (will retry)"  # next attempt decided, not yet handed to Redis
    DEAD = "dead", "Dead"  # retries exhausted
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def active(cls):
        """Statuses of a run that has not reached its end."""
        return [cls.PENDING, cls.QUEUED, cls.SCHEDULED, cls.RUNNING, cls.FAILED]

    @classmethod
    def undispatched(cls):
        """Statuses the outbox must still hand to Redis."""
        return [cls.PENDING, cls.FAILED]

    @classmethod
    def waiting(cls):
        """Statuses of a run that Redis should be holding."""
        return [cls.QUEUED, cls.SCHEDULED]

    @classmethod
    def claimable(cls):
        """Statuses a worker may claim from (dispatch may race its own status write)."""
        return [cls.PENDING, cls.QUEUED, cls.SCHEDULED, cls.FAILED]

    @classmethod
    def terminal(cls):
        return [cls.SUCCEEDED, cls.DEAD, cls.CANCELLED]


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SOFT_TIME_LIMIT = "soft_time_limit", "Soft time limit"
    HARD_TIME_LIMIT = "hard_time_limit", "Hard time limit (killed)"
    WORKER_LOST = "worker_lost", "Worker lost"
    CANCELLED = "cancelled", "Cancelled"
    INTERRUPTED = "interrupted", "Interrupted by shutdown"


class Lane(models.TextChoices):
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class Trigger(models.TextChoices):
    API = "api", "Code / API"
    USER = "user", "User"
    SCHEDULE = "schedule", "Schedule"
    PARENT = "parent", "Parent run"
    RETRY = "retry", "Manual retry"
