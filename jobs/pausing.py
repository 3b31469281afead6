"""Pausing queues: a paused queue keeps accepting runs, but no worker takes one from it.

The paused set lives in Redis, next to the queues it governs, so every worker sees a pause
without a database query per job. It is operator state, not ledger state: a Redis flush or a
restart without persistence resumes every queue.
"""

import logging
import time

from redis.exceptions import RedisError

from .conf import jobs_settings
from .queues import get_redis

logger = logging.getLogger("jobs.pausing")

PAUSED_KEY = "engram:queues:paused"


def _check(queue):
    if queue not in jobs_settings.QUEUES:
        raise ValueError(f"unknown queue {queue!r}; known queues: {', '.join(jobs_settings.QUEUES)}")


def pause_queue(queue):
    """Stop workers taking runs from every lane of `queue`; return whether it was running."""
    _check(queue)
    return get_redis().sadd(PAUSED_KEY, queue) == 1


def resume_queue(queue):
    """Let workers take runs from `queue` again; return whether it was paused."""
    _check(queue)
    return get_redis().srem(PAUSED_KEY, queue) == 1


def paused_queues(connection=None):
    """Names of the paused queues."""
    return {name.decode() for name in (connection or get_redis()).smembers(PAUSED_KEY)}


def queue_of(rq_queue_name):
    """The queue an RQ lane belongs to (`topics.high` -> `topics`)."""
    return rq_queue_name.rsplit(".", 1)[0]


class PausedQueuesCache:
    """The paused set as a worker sees it: re-read at most every `ttl` seconds."""

    def __init__(self, connection, ttl=1.0):
        self.connection = connection
        self.ttl = ttl
        self._value = frozenset()
        self._expires = 0.0

    def get(self):
        now = time.monotonic()
        if now >= self._expires:
            try:
                self._value = frozenset(paused_queues(self.connection))
            except RedisError as exc:
                # Keep the last known set; the dequeue that follows meets the same outage and
                # runs RQ's own reconnect back-off.
                logger.warning("cannot read paused queues, keeping %s: %s", sorted(self._value), exc)
            self._expires = now + self.ttl
        return self._value
