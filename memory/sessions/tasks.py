"""Session context caches."""

from django.tasks import task

from jobs import RetryPolicy

from memory.models import Project
from memory.sessions.context import rebuild_project_contexts


@task(queue_name="memory", retry=RetryPolicy.none(), takes_context=True, kind="maintenance")
def rebuild_context_cache(context, project_id):
    """Rebuild the cached context of every session of a project (after bulk imports, on demand)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {"skipped": "missing"}
    count = rebuild_project_contexts(
        project, progress=lambda done, total: context.report_progress(done, total, "sessions rebuilt"))
    return {"sessions": count}
