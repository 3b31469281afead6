"""RQ pieces EngramWorker swaps in: no SIGALRM timeout, a scheduler that dies with its worker, quiet job lines."""

import ctypes
import logging
import os
import signal

from rq.scheduler import RQScheduler
from rq.timeouts import BaseDeathPenalty

logger = logging.getLogger("jobs.worker")

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class NoDeathPenalty(BaseDeathPenalty):
    """RQ's SIGALRM timeout is off: jobs.limits enforces each task's soft and hard limits."""

    def setup_death_penalty(self):
        pass

    def cancel_death_penalty(self):
        pass


class EngramRQScheduler(RQScheduler):
    """RQ's scheduler process, which dies with the worker that forked it.

    RQ forks it and never tells it when its worker is SIGKILLed: the orphan kept running and
    kept the per-queue scheduler locks for hours. The kernel sends it SIGTERM when its parent
    dies (PR_SET_PDEATHSIG); RQ's handler then stops it at its next loop and releases the locks.
    """

    def work(self):
        parent = os.getppid()
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: the lock TTL (interval + 60 s) frees the queues
            logger.warning("RQ scheduler: cannot ask the kernel to stop it with its worker")
        self._install_signal_handlers()
        if os.getppid() != parent:  # the worker died before the request took effect
            self.request_stop()
        super().work()


# RQ's per-job lines: a worker logging each job at INFO drained half as fast in a side-by-side
# run. They go to DEBUG; the ledger and its signals carry what happened to each run.
PER_JOB_MESSAGES = frozenset({
    "Worker %s: %s: %s (%s)", "Worker %s: %s: %s", "Successfully completed %s job in %ss on worker %s",
    "Successfully completed job %s in %ss on worker %s", "Worker %s: job %s result discarded immediately",
    "Worker %s: job %s result is kept for %s seconds",
})


class JobLinesAtDebug(logging.LoggerAdapter):
    """RQ's worker logger with its per-job INFO lines at DEBUG (start-up and shutdown stay INFO)."""

    def info(self, msg, *args, **kwargs):
        self.log(logging.DEBUG if msg in PER_JOB_MESSAGES else logging.INFO, msg, *args, **kwargs)
