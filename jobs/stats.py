"""The operator pages' figures, all from one place so that every page counts the same way.

Vocabulary (the pages' column titles say the same):
- a run is *finished* when it is succeeded, dead or cancelled;
- *success rate* = succeeded / finished, with cancelled runs counted in `finished` and shown on
  their own column;
- *failed* and *dead* count runs (a run that failed three attempts is one failed run); failed
  attempts are counted separately as `failed_attempts`.

Numbers are returned raw (seconds as floats, counts as ints); templates format them with the
`duration` and `size` filters of `jobs_format`.
"""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Floor
from django.utils import timezone
from redis.exceptions import RedisError

from .conf import jobs_settings
from .aggregates import Epoch, Percentile
from .models import JobAttempt, JobRun, Worker
from .pausing import paused_queues
from .queues import get_redis, get_rq_queue, rq_queue_name
from .status import AttemptOutcome, RunStatus

FAILED_OUTCOMES = [AttemptOutcome.FAILED, AttemptOutcome.SOFT_TIME_LIMIT, AttemptOutcome.HARD_TIME_LIMIT,
                   AttemptOutcome.WORKER_LOST]

# The Tasks page's windows: length, and the width of one bar of its chart (an hour, except in
# the one-hour window, where a single bar would say nothing).
WINDOWS = {
    "1h": (timedelta(hours=1), timedelta(minutes=5), "5 minutes"),
    "24h": (timedelta(hours=24), timedelta(hours=1), "hour"),
    "7d": (timedelta(days=7), timedelta(hours=1), "hour"),
}
DEFAULT_WINDOW = "24h"
CHART_WIDTH, CHART_HEIGHT = 336, 32


def success_rate(succeeded, finished):
    """succeeded / finished as a fraction, or None when nothing finished."""
    return succeeded / finished if finished else None


# --- the Tasks page ----------------------------------------------------------------------------


def task_statistics(window, now=None):
    """Per task over the window: counts, percentiles and the chart's buckets, in two queries."""
    now = now or timezone.now()
    length, bucket, _ = WINDOWS[window]
    since = now - length
    recent = JobRun.objects.filter(enqueued_at__gte=since).values("task_path").order_by()
    wait = Epoch(F("started_at") - F("enqueued_at"))
    took = Epoch(F("finished_at") - F("started_at"))
    stats = {
        row["task_path"]: row
        for row in recent.annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
            dead=Count("pk", filter=Q(status=RunStatus.DEAD)),
            cancelled=Count("pk", filter=Q(status=RunStatus.CANCELLED)),
            finished=Count("pk", filter=Q(status__in=RunStatus.terminal())),
            wait_p50=Percentile(wait, 0.5), wait_p95=Percentile(wait, 0.95),
            run_p50=Percentile(took, 0.5), run_p95=Percentile(took, 0.95),
        )
    }
    buckets = int(length / bucket)
    index = Floor(Epoch(F("enqueued_at") - Value(since)) / bucket.total_seconds())
    series = {}
    for row in recent.annotate(bucket=index).values("task_path", "bucket").annotate(n=Count("pk")):
        position = min(int(row["bucket"]), buckets - 1)  # a run enqueued at exactly `now`
        series.setdefault(row["task_path"], [0] * buckets)[position] += row["n"]
    hours = length.total_seconds() / 3600
    for path_, row in stats.items():
        rate = success_rate(row["succeeded"], row["finished"])
        row["success"] = rate
        row["success_rate"] = f"{100 * rate:.1f}%" if rate is not None else "-"
        row["throughput"] = f"{row['finished'] / hours:.1f}"
        row["chart"] = chart(series.get(path_, [0] * buckets), since, bucket)
    return stats


def chart(counts, since, bucket):
    """Bars for an inline SVG: one per bucket, scaled to the busiest."""
    peak = max(counts) or 1
    width = CHART_WIDTH / len(counts)
    bars = []
    for i, count in enumerate(counts):
        height = round(CHART_HEIGHT * count / peak, 1)
        start = timezone.localtime(since + i * bucket)
        bars.append({"x": round(i * width, 2), "y": CHART_HEIGHT - height, "width": max(round(width - 0.5, 2), 1),
                     "height": height, "count": count, "title": f"{start:%a %H:%M}: {count} runs"})
    first = timezone.localtime(since)
    return {"bars": bars, "peak": max(counts), "width": CHART_WIDTH, "height": CHART_HEIGHT,
            "start": f"{first:%a %H:%M}"}


# --- the Queues page -----------------------------------------------------------------------


def queue_overview(now=None):
    """Every queue with its lanes: depth, oldest wait, running, failed and dead runs (24 h), failed
    attempts (24 h), listeners."""
    now = now or timezone.now()
    lanes = [(queue, lane) for queue in jobs_settings.QUEUES for lane in jobs_settings.LANES]
    depth, paused, redis_error = {}, set(), None
    try:
        redis = get_redis()
        with redis.pipeline(transaction=False) as pipe:
            for queue, lane in lanes:
                pipe.llen(get_rq_queue(rq_queue_name(queue, lane)).key)
            depth = dict(zip(lanes, pipe.execute()))
        paused = paused_queues()
    except RedisError as exc:
        redis_error = str(exc)

    # One LIMIT 1 per lane, ordered like the (status, -enqueued_at) index, in a single UNION ALL;
    # lanes Redis reports empty are skipped, since each probe walks the queued rows until it
    # finds its lane.
    probes = [
        JobRun.objects.filter(status=RunStatus.QUEUED, queue=queue, lane=lane)
        .order_by("enqueued_at").values_list("queue", "lane", "enqueued_at")[:1]
        for queue, lane in lanes if depth.get((queue, lane)) != 0
    ]
    oldest = {}
    if probes:
        oldest = {(q, lane): at for q, lane, at in probes[0].union(*probes[1:], all=True)}

    since = now - timedelta(hours=24)
    counts = {
        (row["queue"], row["lane"]): row
        for row in JobRun.objects.filter(Q(status=RunStatus.RUNNING)
                                         | Q(status=RunStatus.DEAD, finished_at__gte=since))
        .values("queue", "lane").order_by()
        .annotate(running=Count("pk", filter=Q(status=RunStatus.RUNNING)),
                  dead=Count("pk", filter=Q(status=RunStatus.DEAD)))
    }
    # Failed attempts and the runs they belong to, both over the same 24 h of attempts.
    failures = {
        (row["run__queue"], row["run__lane"]): row
        for row in JobAttempt.objects.filter(finished_at__gte=since, outcome__in=FAILED_OUTCOMES)
        .values("run__queue", "run__lane").order_by()
        .annotate(attempts=Count("pk"), runs=Count("run", distinct=True))
    }
    listeners = {}
    for worker in Worker.objects.alive(now).only("name", "queues"):
        for name in worker.queues:
            listeners.setdefault(name, []).append(worker.name)

    queues = []
    for queue in jobs_settings.QUEUES:
        rows = []
        for lane in jobs_settings.LANES:
            key, name = (queue, lane), rq_queue_name(queue, lane)
            enqueued_at = oldest.get(key)
            failed = failures.get(key, {})
            rows.append({
                "name": name, "lane": lane, "depth": depth.get(key, "?"),
                "oldest": (now - enqueued_at).total_seconds() if enqueued_at else None,
                "running": counts.get(key, {}).get("running", 0), "dead": counts.get(key, {}).get("dead", 0),
                "failed": failed.get("runs", 0), "failed_attempts": failed.get("attempts", 0),
                "workers": sorted(listeners.get(name, [])),
            })
        queues.append({"name": queue, "paused": queue in paused, "lanes": rows})
    return {"queues": queues, "paused": sorted(paused), "redis_error": redis_error}


# --- the dashboard's charts --------------------------------------------------------------------

# The dashboard's chart windows: length and bucket width.
SERIES_WINDOWS = {
    "1h": (timedelta(hours=1), timedelta(minutes=1)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
}

SERIES_SQL = """
WITH buckets AS (
    SELECT generate_series(0, %(n)s - 1) AS i
)
SELECT b.i,
    (SELECT count(*) FROM jobs_jobrun r
       WHERE r.status = 'succeeded' AND r.finished_at >= %(since)s + b.i * %(step)s
         AND r.finished_at < %(since)s + (b.i + 1) * %(step)s) AS succeeded,
    (SELECT count(*) FROM jobs_jobrun r
       WHERE r.status = 'dead' AND r.finished_at >= %(since)s + b.i * %(step)s
         AND r.finished_at < %(since)s + (b.i + 1) * %(step)s) AS dead,
    (SELECT count(*) FROM jobs_jobattempt a
       WHERE a.outcome = ANY(%(failed)s) AND a.finished_at >= %(since)s + b.i * %(step)s
         AND a.finished_at < %(since)s + (b.i + 1) * %(step)s) AS failed_attempts,
    (SELECT count(*) FROM jobs_jobrun r
       WHERE r.enqueued_at < %(since)s + (b.i + 1) * %(step)s
         AND (r.started_at IS NULL OR r.started_at >= %(since)s + (b.i + 1) * %(step)s)
         AND (r.finished_at IS NULL OR r.finished_at >= %(since)s + (b.i + 1) * %(step)s)
    ) AS waiting
FROM buckets b ORDER BY b.i
"""


def dashboard_series(window="1h", now=None):
    """Throughput, failures and queue depth over the window, one point per bucket, from the ledger.

    - succeeded, dead: runs that reached that status in the bucket (by finished_at);
    - failed_attempts: attempts that ended in an error, a time limit or a lost worker;
    - waiting: runs enqueued and not yet started (nor finished) at the bucket's end, i.e. the
      ledger's queue depth at that moment.
    """
    now = now or timezone.now()
    length, step = SERIES_WINDOWS[window]
    n = int(length / step)
    # Buckets end at the next whole step, so a refresh every few seconds keeps the same buckets.
    epoch = now.timestamp()
    end = epoch - epoch % step.total_seconds() + step.total_seconds()
    since = datetime.fromtimestamp(end, tz=UTC) - length
    with connection.cursor() as cursor:
        cursor.execute(SERIES_SQL, {"n": n, "since": since, "step": step,
                                    "failed": [str(o) for o in FAILED_OUTCOMES]})
        rows = cursor.fetchall()
    labels = [(since + (i + 1) * step).isoformat() for i, *_ in rows]
    return {
        "window": window, "step_seconds": step.total_seconds(), "labels": labels,
        "succeeded": [r[1] for r in rows], "dead": [r[2] for r in rows],
        "failed_attempts": [r[3] for r in rows], "waiting": [r[4] for r in rows],
    }
