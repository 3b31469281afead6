"""The one retry path: a failed attempt is recorded, and a run with attempts left goes back to RQ."""

from .dispatch import dispatch
from .status import RunStatus


def fail_attempt(run, attempt, outcome, exc_type, message, traceback="", now=None):
    """Record a failed attempt; if the run's policy grants another, dispatch it. Return whether it won.

    The worker (task errors, time limits) and the reconciler (lost workers) both end attempts
    here. The dispatch puts the next attempt in RQ's scheduled registry for its backoff; if
    Redis refuses, the run stays `failed` in the outbox and the dispatcher sends it later.
    """
    won = run.mark_attempt_failed(attempt, outcome, exc_type, message, traceback, now=now)
    if won and run.status == RunStatus.FAILED:
        dispatch(run, now=now)
    return won
