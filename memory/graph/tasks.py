"""Knowledge-graph tasks: extraction, entity resolution and community detection."""

from django.tasks import task

from jobs import LOW_PRIORITY, RetryPolicy

from memory.models import Memory, Project
from memory.graph import communities, entity_resolution
from memory.graph import extraction as graph_extraction

SKIPPED = {"skipped": "missing"}
CLAIMED = {"skipped": "claimed"}


@task(queue_name="graphs", retry=RetryPolicy.exponential(3, base=60), unique_key="graph:{0}", kind="graph")
def extract_graph_lazy(memory_id):
    """Extract one memory's entities and relations now (skipped while an extraction pass holds it)."""
    memory = Memory.objects.filter(pk=memory_id).first()
    if memory is None:
        return SKIPPED
    counts = graph_extraction.extract_one(memory)
    return CLAIMED if counts is None else counts


@task(queue_name="graphs", priority=LOW_PRIORITY, retry=RetryPolicy.exponential(3), kind="graph",
      takes_context=True)
def process_graph_extraction_queue(context):
    """Extract the graph of the oldest memories never extracted, then cluster the projects it changed."""
    counts = graph_extraction.process_extraction_queue(
        progress=lambda done, total: context.report_progress(done, total, "memories extracted"))
    # Chained rather than left to the next update_graph_batch: new facts should not wait minutes
    # for their communities (the demo's graph is drawn by community). The unique key collapses
    # a detection already waiting for the same project.
    for project in communities.stale_projects().filter(pk__in=counts["projects"]):
        detect_communities.enqueue(project.pk)
    return {**counts, "projects": len(counts["projects"])}


@task(queue_name="graphs", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="graph", takes_context=True)
def update_graph_batch(context):
    """Re-extract memories whose text changed, then re-detect communities where the graph changed."""
    counts = graph_extraction.refresh_stale_graphs(
        progress=lambda done, total: context.report_progress(done, total, "changed memories re-extracted"))
    clustered = communities.detect_stale_communities(
        progress=lambda done, total: context.report_progress(done, total, "projects clustered"))
    # "projects" counts the projects clustered (extraction marks the ones whose graph it changed).
    return {**counts, "projects": clustered["projects"], "communities": clustered["communities"]}


@task(queue_name="graphs", retry=RetryPolicy.none(), kind="graph", takes_context=True)
def resolve_entities_batch(context, project_id):
    """Merge a project's entities that name the same thing."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return SKIPPED
    merges = entity_resolution.resolve_entities(
        project, progress=lambda done, total: context.report_progress(done, total, "candidate pairs checked"))
    return {"merges": len(merges), "relations_moved": sum(merge.relations_moved for merge in merges)}


@task(queue_name="graphs", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="graph")
def resolve_entities_weekly():
    """Enqueue entity resolution for every project that has entities (one chained run each)."""
    project_ids = list(Project.objects.filter(entities__isnull=False).distinct().values_list("pk", flat=True))
    for project_id in project_ids:
        resolve_entities_batch.enqueue(project_id)
    return {"projects": project_ids}


@task(queue_name="graphs", retry=RetryPolicy.none(), kind="graph", unique_key="communities:{0}")
def detect_communities(project_id):
    """Group a project's entities into communities."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return SKIPPED
    return communities.detect_communities(project)
