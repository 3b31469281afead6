"""Reflection tasks: find projects with new episodic memories and reflect on each."""

from django.tasks import task

from jobs import RetryPolicy

from memory.models import Project
from memory.insights import reflections


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
