"""Soft and hard time limits around one task execution."""

import signal
import threading
from contextlib import contextmanager

from .exceptions import SoftTimeLimitExceeded


def _raise_soft_limit(signum, frame):
    raise SoftTimeLimitExceeded("the task ran past its soft time limit")


@contextmanager
def time_limits(soft=None, hard=None, on_hard_limit=None):
    """Raise SoftTimeLimitExceeded in the task after `soft` s; call `on_hard_limit` after `hard` s."""
    use_alarm = bool(soft) and threading.current_thread() is threading.main_thread()
    previous = None
    if use_alarm:
        # SIGALRM interrupts pure-Python loops; RQ's own alarm is disabled by EngramWorker.
        previous = signal.signal(signal.SIGALRM, _raise_soft_limit)
        signal.setitimer(signal.ITIMER_REAL, soft)
    watchdog = None
    if hard and on_hard_limit is not None:
        # A thread, not a signal: the hard limit must fire even if the task swallows exceptions.
        watchdog = threading.Timer(hard, on_hard_limit)
        watchdog.daemon = True
        watchdog.start()
    try:
        yield
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous or signal.SIG_DFL)
