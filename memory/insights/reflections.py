"""Reflections: what a project's recent episodic memories say, stand out for, and ask to be done."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from memory.models import Layer, Memory, Project, Reflection
from memory.providers.text_generation import get_text_generator

WINDOW = timedelta(days=1)
MAX_MEMORIES = 200


def projects_needing_reflection(now=None):
    """Projects with episodic memories newer than their latest reflection (or any, if none)."""
    now = now or timezone.now()
    due = []
    for project in Project.objects.all():
        last = project.reflections.order_by("-window_end").values_list("window_end", flat=True).first()
        since = last or now - WINDOW
        if Memory.objects.filter(project=project, layer=Layer.EPISODIC, created_at__gt=since,
                                 created_at__lte=now).exists():
            due.append(project)
    return due


def generate_reflection(project, now=None, generator=None):
    """Reflect on the project's episodic memories since its last reflection; return it or None."""
    now = now or timezone.now()
    last = project.reflections.order_by("-window_end").values_list("window_end", flat=True).first()
    start = last or now - WINDOW
    memories = list(Memory.objects.filter(project=project, layer=Layer.EPISODIC, created_at__gt=start,
                                          created_at__lte=now).order_by("created_at")[:MAX_MEMORIES])
    if not memories:
        return None
    result = (generator or get_text_generator()).reflect([m.content for m in memories])
    with transaction.atomic():
        reflection = Reflection.objects.create(
            workspace_id=project.workspace_id, project=project, window_start=start, window_end=now,
            summary=result.summary, key_insights=list(result.insights), suggested_actions=list(result.actions),
        )
        reflection.source_memories.set(memories)
    return reflection
