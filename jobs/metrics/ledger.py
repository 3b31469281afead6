"""Gauges read from the ledger and Redis at scrape time: a handful of bounded, indexed queries.

Only unfinished runs are counted here (the partial index `jobs_run_unfinished_idx` keeps that
cheap on a table of millions); finished runs are counted as they finish, by the per-task
counters of `jobs.metrics.receivers`.
"""

from django.db import DatabaseError, connection
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from rq import Queue

from ..conf import jobs_settings
from ..health import alive_workers_by_queue, scheduler_leader
from ..models import JobRun
from ..queues import get_redis, worker_queue_names
from ..status import RunStatus
from .labels import queue_label, task_label

WAITING = [RunStatus.PENDING, RunStatus.QUEUED, RunStatus.SCHEDULED, RunStatus.FAILED]


class LedgerCollector:
    """Collect the platform's state: runs, queues, workers, the scheduler and the outbox."""

    def collect(self):
        up = GaugeMetricFamily("jobs_metrics_source_up", "Whether a scrape-time source answered.", labels=["source"])
        try:
            families = list(self._from_database())
            up.add_metric(["database"], 1)
        except DatabaseError:
            connection.close_if_unusable_or_obsolete()
            families = []
            up.add_metric(["database"], 0)
        try:
            families.append(self._queue_depths())
            up.add_metric(["redis"], 1)
        except (RedisError, OSError):
            up.add_metric(["redis"], 0)
        yield up
        yield from families

    def _from_database(self):
        now = timezone.now()
        runs = GaugeMetricFamily("jobs_runs", "Unfinished runs by task and status.", labels=["task", "status"])
        totals = {}
        for row in JobRun.objects.active().values("task_path", "status").annotate(n=Count("id")).order_by():
            key = (task_label(row["task_path"]), row["status"])
            totals[key] = totals.get(key, 0) + row["n"]
        for (task, status), count in sorted(totals.items()):
            runs.add_metric([task, status], count)
        yield runs

        # A run waits from the later of its last status change and its run_after; runs not due yet do not wait.
        since = Greatest(F("status_changed_at"), Coalesce(F("run_after"), F("status_changed_at")))
        waiting_rows = (
            JobRun.objects.filter(status__in=WAITING).filter(Q(run_after__isnull=True) | Q(run_after__lte=now))
            .values("queue").annotate(n=Count("id"), oldest=Min(since)).order_by()
        )
        depth = GaugeMetricFamily("jobs_queue_waiting_runs", "Runs due and waiting for a worker.", labels=["queue"])
        oldest = GaugeMetricFamily("jobs_queue_oldest_waiting_seconds", "Age of the longest-waiting due run.",
                                   labels=["queue"])
        per_queue = {queue: (0, None) for queue in jobs_settings.QUEUES}
        for row in waiting_rows:
            queue = queue_label(row["queue"])
            count, first = per_queue.get(queue, (0, None))
            per_queue[queue] = (count + row["n"], min(filter(None, (first, row["oldest"]))))
        for queue, (count, first) in sorted(per_queue.items()):
            depth.add_metric([queue], count)
            oldest.add_metric([queue], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield depth
        yield oldest

        workers = GaugeMetricFamily("jobs_workers_alive", "Live workers listening to a queue.", labels=["queue"])
        for queue, count in sorted(alive_workers_by_queue().items()):
            workers.add_metric([queue], count)
        yield workers

        leader = scheduler_leader()
        yield GaugeMetricFamily("jobs_scheduler_leader", "1 when a scheduler holds the leader lease.",
                                value=0 if leader is None else 1)
        if leader is not None:
            yield GaugeMetricFamily("jobs_scheduler_last_tick_age_seconds", "Seconds since the leader's last tick.",
                                    value=leader[1])

        outbox = JobRun.objects.undispatched().aggregate(n=Count("id"), oldest=Min("status_changed_at"))
        yield GaugeMetricFamily("jobs_outbox_runs", "Runs not yet handed to Redis (pending, failed).",
                                value=outbox["n"])
        yield GaugeMetricFamily(
            "jobs_outbox_oldest_seconds", "Age of the oldest run still in the outbox.",
            value=max(0.0, (now - outbox["oldest"]).total_seconds()) if outbox["oldest"] else 0.0,
        )

    def _queue_depths(self):
        names = worker_queue_names()
        with get_redis().pipeline(transaction=False) as pipe:
            for name in names:
                pipe.llen(Queue.redis_queue_namespace_prefix + name)
            lengths = pipe.execute()
        depth = GaugeMetricFamily("jobs_queue_depth", "Jobs RQ holds ready in a queue lane.", labels=["queue", "lane"])
        for name, length in zip(names, lengths):
            queue, lane = name.rsplit(".", 1)
            depth.add_metric([queue, lane], length)
        return depth
