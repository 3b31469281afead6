from .attempt import JobAttempt
from .idempotency import IdempotencyKey
from .lease import SchedulerLease
from .policy import TaskPolicy, TaskPolicyChange
from .run import JobRun
from .schedule import MisfirePolicy, OverlapPolicy, Schedule
from .worker import Worker

__all__ = [
    "IdempotencyKey", "JobAttempt", "JobRun", "MisfirePolicy", "OverlapPolicy", "Schedule", "SchedulerLease",
    "TaskPolicy", "TaskPolicyChange", "Worker",
]
