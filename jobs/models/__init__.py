from .attempt import JobAttempt
from .run import JobRun
from .worker import Worker

__all__ = ["JobAttempt", "JobRun", "Worker"]
