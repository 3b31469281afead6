"""Analysis tasks: decision quality and activity anomalies."""

from django.tasks import task

from jobs import LOW_PRIORITY, RetryPolicy

from memory.models import Decision
from memory.insights import anomalies
from memory.insights import decision_analysis as decisions


@task(queue_name="analytics", retry=RetryPolicy.exponential(2, base=60), kind="analysis")
def analyze_decision(decision_id):
    """Score one decision and record its findings."""
    decision = Decision.objects.filter(pk=decision_id).select_related("owner").first()
    if decision is None:
        return {"skipped": "missing"}
    return decisions.analyze_decision(decision)


@task(queue_name="analytics", priority=LOW_PRIORITY, retry=RetryPolicy.linear(2, 300), kind="analysis")
def detect_anomalies():
    """Flag hourly activity spikes and drops per project (robust z-score)."""
    found = anomalies.detect_anomalies()
    return {"anomalies": [{"project": a.project_id, "kind": a.kind, "score": round(a.score, 2)} for a in found]}
