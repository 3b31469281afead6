"""Insight tasks: reflections, decision quality, activity anomalies and the aggregation of episodes."""

from django.tasks import task

from jobs import LOW_PRIORITY, RetryPolicy

from memory.insights import aggregation, anomalies, reflections
from memory.insights import decision_analysis as decisions
from memory.insights.decision import Decision
from memory.core.tenancy import Project


@task(queue_name="analytics", retry=RetryPolicy.exponential(2, base=60), kind="analysis")
def generate_reflection_for_project(project_id):
    """Reflect on one project's recent episodic memories."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {"skipped": "missing"}
    reflection = reflections.generate_reflection(project)
    return {"reflection": reflection.pk if reflection else None}


@task(queue_name="analytics", retry=RetryPolicy.exponential(2, base=60), kind="analysis")
def schedule_reflections():
    """Enqueue a reflection for every project with new episodic memories (chained runs)."""
    projects = reflections.projects_needing_reflection()
    for project in projects:
        generate_reflection_for_project.enqueue(project.pk)
    return {"projects": [p.pk for p in projects]}


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


@task(queue_name="memory", priority=LOW_PRIORITY, retry=RetryPolicy.exponential(2, base=60), kind="maintenance")
def aggregate_memory():
    """Turn yesterday's recurring episodes into semantic memories."""
    return aggregation.aggregate_memories()
