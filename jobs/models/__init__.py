from .attempt import JobAttempt
from .idempotency import IdempotencyKey
from .policy import TaskPolicy, TaskPolicyChange
from .run import JobRun
from .schedule import MisfirePolicy, OverlapPolicy, Schedule
from .worker import Worker

__all__ = [
    "IdempotencyKey", "JobAttempt", "JobRun", "MisfirePolicy", "OverlapPolicy", "Schedule", "TaskPolicy", "TaskPolicyChange", "Worker",
]
