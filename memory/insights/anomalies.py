"""Activity anomalies: the latest hour's memory count against a robust baseline per project."""

import statistics
from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from memory.models import Anomaly, Memory, Project

BASELINE_HOURS = 7 * 24
THRESHOLD = 3.5  # Iglewicz and Hoaglin's cut-off for the modified z-score
MAD_SCALE = 0.6745  # makes the median absolute deviation comparable to a standard deviation


def robust_z(value, history):
    """The modified z-score of `value` against `history` (0 when the history does not vary)."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    if mad == 0:
        # A flat history: any change is unusual; scale by the mean absolute deviation instead.
        mean_dev = statistics.fmean(abs(x - median) for x in history)
        return 0.0 if mean_dev == 0 and value == median else (value - median) / (mean_dev or 1.0)
    return MAD_SCALE * (value - median) / mad


def detect_anomalies(now=None, threshold=THRESHOLD):
    """Flag projects whose memories in the last full hour spike or drop; return the anomalies."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    window_start, since = now - timedelta(hours=1), now - timedelta(hours=BASELINE_HOURS + 1)
    rows = (Memory.objects.filter(created_at__gte=since, created_at__lt=now)
            .annotate(hour=TruncHour("created_at")).values("project_id", "hour").annotate(n=Count("id")))
    counts = {}
    for row in rows:
        counts.setdefault(row["project_id"], {})[row["hour"]] = row["n"]
    found = []
    for project in Project.objects.filter(pk__in=counts):
        hourly = counts[project.pk]
        history = [hourly.get(since + timedelta(hours=h), 0) for h in range(BASELINE_HOURS)]
        if sum(history) == 0:
            continue  # a new project: no baseline to compare with
        latest = hourly.get(window_start, 0)
        score = robust_z(latest, history)
        if abs(score) >= threshold:
            found.append(Anomaly.objects.create(
                workspace_id=project.workspace_id, project=project, kind="spike" if score > 0 else "drop",
                metric="memories_per_hour", window_start=window_start, window_end=now, score=score,
                details={"count": latest, "baseline_median": statistics.median(history)},
            ))
    return found
