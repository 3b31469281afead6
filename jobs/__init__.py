"""Engram's job platform: Django tasks run on RQ, recorded in a Postgres ledger.

Define tasks with Django's own API (`from django.tasks import task`) and this package's options:

    @task(queue_name="topics", priority=HIGH_PRIORITY, retry=RetryPolicy.exponential(3), soft_time_limit=60)
    def extract_topics(memory_id): ...
"""

from .exceptions import InvalidArguments, JobCancelled, SoftTimeLimitExceeded
from .queues import HIGH_PRIORITY, LOW_PRIORITY, NORMAL_PRIORITY
from .retry import Backoff, RetryPolicy
from .status import AttemptOutcome, Lane, RunStatus, Trigger

__all__ = [
    "AttemptOutcome",
    "Backoff",
    "HIGH_PRIORITY",
    "InvalidArguments",
    "JobCancelled",
    "LOW_PRIORITY",
    "Lane",
    "NORMAL_PRIORITY",
    "RetryPolicy",
    "RunStatus",
    "SoftTimeLimitExceeded",
    "Trigger",
]
