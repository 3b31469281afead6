"""Rewrite the stored paths of the memory tasks that moved into capability packages.

Runs, schedules, task policies and the policies' audit log name a task by its dotted path. The
map is frozen here (a migration must not follow later code); memory.task_aliases keeps the same
map for runs queued in Redis before this migration ran.
"""

from django.db import migrations

MOVED_TASKS = {
    "memory.tasks.enrichment.extract_topics": "memory.enrichment.tasks.extract_topics",
    "memory.tasks.enrichment.update_embeddings": "memory.enrichment.tasks.update_embeddings",
    "memory.tasks.enrichment.embed_batch": "memory.enrichment.tasks.embed_batch",
    "memory.tasks.graph.detect_communities": "memory.graph.tasks.detect_communities",
    "memory.tasks.graph.extract_graph_lazy": "memory.graph.tasks.extract_graph_lazy",
    "memory.tasks.graph.process_graph_extraction_queue": "memory.graph.tasks.process_graph_extraction_queue",
    "memory.tasks.graph.resolve_entities_batch": "memory.graph.tasks.resolve_entities_batch",
    "memory.tasks.graph.resolve_entities_weekly": "memory.graph.tasks.resolve_entities_weekly",
    "memory.tasks.graph.update_graph_batch": "memory.graph.tasks.update_graph_batch",
    "memory.tasks.analysis.analyze_decision": "memory.insights.tasks.analyze_decision",
    "memory.tasks.analysis.detect_anomalies": "memory.insights.tasks.detect_anomalies",
    "memory.tasks.reflection.generate_reflection_for_project": "memory.insights.tasks.generate_reflection_for_project",
    "memory.tasks.reflection.schedule_reflections": "memory.insights.tasks.schedule_reflections",
    "memory.tasks.maintenance.aggregate_memory": "memory.insights.tasks.aggregate_memory",
    "memory.tasks.maintenance.apply_memory_decay": "memory.lifecycle.tasks.apply_memory_decay",
    "memory.tasks.maintenance.cleanup_sessions": "memory.lifecycle.tasks.cleanup_sessions",
    "memory.tasks.maintenance.prune_old_memories": "memory.lifecycle.tasks.prune_old_memories",
    "memory.tasks.context.rebuild_context_cache": "memory.sessions.tasks.rebuild_context_cache",
}
STORED_PATHS = [("jobs", "JobRun"), ("jobs", "Schedule"), ("jobs", "TaskPolicy"), ("jobs", "TaskPolicyChange")]


def rewrite(apps, renames):
    for app_label, model_name in STORED_PATHS:
        model = apps.get_model(app_label, model_name)
        unique = model._meta.get_field("task_path").unique
        for old, new in renames.items():
            if unique and model.objects.filter(task_path=new).exists():
                continue  # a policy already made for the new path wins; the old one stays visible in the admin
            # One UPDATE per path: the runs table can hold millions of rows, and task_path is
            # the leading column of jobs_run_task_idx.
            model.objects.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor):
    rewrite(apps, MOVED_TASKS)


def backwards(apps, schema_editor):
    rewrite(apps, {new: old for old, new in MOVED_TASKS.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("memory", "0004_graph_staleness"),
        ("jobs", "0004_attempt_finished_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
