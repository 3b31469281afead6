"""Queues and their priority lanes, mapped onto RQ queues."""

from functools import cache

from django.conf import settings
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from .conf import jobs_settings
from .status import Lane

# Django's task priority (-100..100) picks the lane: above zero is high, below zero is low.
HIGH_PRIORITY = 50
NORMAL_PRIORITY = 0
LOW_PRIORITY = -50


def lane_for_priority(priority):
    if priority > 0:
        return Lane.HIGH
    if priority < 0:
        return Lane.LOW
    return Lane.NORMAL


def rq_queue_name(queue, lane):
    return f"{queue}.{lane}"


def lane_names(queue):
    """RQ queue names of one queue, highest lane first (RQ pops them in this order)."""
    return [rq_queue_name(queue, lane) for lane in jobs_settings.LANES]


def worker_queue_names(queues=None):
    """RQ queue names for a worker: every high lane before any normal, every normal before low."""
    queues = queues or jobs_settings.QUEUES
    return [rq_queue_name(queue, lane) for lane in jobs_settings.LANES for queue in queues]


@cache
def get_redis():
    """The Redis connection shared by this process (redis-py's pool is fork-safe)."""
    # Short timeouts: an unreachable Redis must leave runs pending, not hang the request.
    return Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=10)


def get_rq_queue(name):
    """A plain RQ queue speaking JSON (never pickle) for one lane."""
    return Queue(name, connection=get_redis(), serializer=JSONSerializer, default_timeout=-1)
