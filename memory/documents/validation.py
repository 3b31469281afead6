"""Validation of uncertain chunks: tasks round-robin over the workspace's validators, audited decisions."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Chunk, ValidationStatus, ValidationTask
from .search_cache import invalidate_workspace

VALIDATOR_PERMISSION = "memory.change_validationtask"


def threshold():
    return settings.MEMORY_DOCUMENTS_VALIDATION_THRESHOLD


def validators(workspace):
    """Members of the workspace who may validate (the permission, directly, by group or as superuser)."""
    users = get_user_model().objects.filter(memberships__workspace=workspace, is_active=True).order_by("pk")
    return [user for user in users if user.has_perm(VALIDATOR_PERMISSION)]


def create_validation_tasks(document):
    """A pending task for every uncertain chunk without one, assigned round-robin; return how many."""
    chunks = list(Chunk.objects.filter(document=document).uncertain(threshold())
                  .exclude(validation_tasks__status=ValidationStatus.PENDING).order_by("ordinal"))
    if not chunks:
        return 0
    people = validators(document.workspace)
    # Continue the rotation where the workspace's previous document left it.
    start = ValidationTask.objects.filter(chunk__document__workspace=document.workspace).count()
    tasks = [ValidationTask(chunk=chunk, priority=document.priority,
                            assignee=people[(start + i) % len(people)] if people else None)
             for i, chunk in enumerate(chunks)]
    # A concurrent run created some meanwhile: the partial unique index skips them.
    ValidationTask.objects.bulk_create(tasks, ignore_conflicts=True)
    return len(tasks)


def decide(task, user, decision, correction="", *, reembed=None):
    """Approve, correct or reject one pending task; return whether this call decided it.

    A correction calls `reembed([chunk_id])` inside the decision's transaction (the caller passes
    `embed_chunks.enqueue`, whose run is then written with the decision and dispatched after commit):
    services compute, callers enqueue.
    """
    if decision not in (ValidationStatus.APPROVED, ValidationStatus.CORRECTED, ValidationStatus.REJECTED):
        raise ValueError(f"unknown decision {decision!r}")
    correction = correction.strip()
    if decision == ValidationStatus.CORRECTED and not correction:
        raise ValueError("a correction needs the corrected text")
    if decision == ValidationStatus.CORRECTED and reembed is None:
        raise ValueError("a correction needs a way to re-embed the chunk")
    with transaction.atomic():
        task = ValidationTask.objects.select_related("chunk__document").get(pk=task.pk)
        if not task.decide(user, decision, correction):
            return False
        chunk = task.chunk
        if decision == ValidationStatus.CORRECTED:
            chunk.text, chunk.confidence = correction, 1.0
            chunk.save(update_fields=["text", "confidence"])
            reembed([chunk.pk])
        elif decision == ValidationStatus.APPROVED:
            chunk.confidence = 1.0  # a person read it: no longer uncertain
            chunk.save(update_fields=["confidence"])
        else:
            chunk.excluded = True
            chunk.save(update_fields=["excluded"])
        transaction.on_commit(lambda: invalidate_workspace(chunk.document.workspace_id))
    return True


def decide_many(tasks, user, decision):
    """Batch validation: approve or reject many tasks; return how many this call decided."""
    return sum(1 for task in tasks if decide(task, user, decision))


def queue_for(user):
    """The signed-in validator's pending tasks, highest priority first."""
    return (ValidationTask.objects.pending().assigned_to(user).select_related("chunk__document")
            .order_by("-priority", "created_at"))

