"""Validation tasks: creation by threshold, round-robin, approve/correct/reject, batch, audit trail."""

import pytest

from memory.documents import validation
from memory.documents.models import (
    AppendOnlyError, Chunk, Document, DocumentStatus, ValidationEvent, ValidationStatus, ValidationTask,
)
from memory.documents.tasks import embed_chunks

from .factories import make_validator, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def make_document(workspace, confidences, priority=3):
    document = Document.objects.create(workspace=workspace, original_name="scan.pdf", sha256="ab" * 32,
                                       status=DocumentStatus.COMPLETED, priority=priority)
    for ordinal, confidence in enumerate(confidences):
        Chunk.objects.create(document=document, ordinal=ordinal, text=f"chunk number {ordinal}", confidence=confidence)
    return document


@pytest.fixture
def team():
    workspace = make_workspace()
    return workspace, make_validator(workspace, "alice"), make_validator(workspace, "bob")


def test_it_opens_a_task_for_each_chunk_under_the_threshold_round_robin(team, settings):
    workspace, alice, bob = team
    document = make_document(workspace, [0.95, 0.5, 0.79, 0.81, 0.2])
    assert validation.create_validation_tasks(document) == 3
    tasks = list(ValidationTask.objects.order_by("chunk__ordinal"))
    assert [t.chunk.ordinal for t in tasks] == [1, 2, 4]
    assert [t.assignee for t in tasks] == [alice, bob, alice]
    assert {t.priority for t in tasks} == {3}
    assert validation.create_validation_tasks(document) == 0  # no second task for an open one
    settings.MEMORY_DOCUMENTS_VALIDATION_THRESHOLD = 0.9
    assert validation.create_validation_tasks(document) == 1  # 0.81 is now uncertain too


def test_approve_correct_and_reject_change_the_chunk_and_are_audited(team, work):
    workspace, alice, _ = team
    document = make_document(workspace, [0.3, 0.3, 0.3])
    validation.create_validation_tasks(document)
    approve, correct, reject = ValidationTask.objects.order_by("chunk__ordinal")
    assert validation.decide(approve, alice, ValidationStatus.APPROVED)
    assert validation.decide(correct, alice, ValidationStatus.CORRECTED, "the corrected text",
                             reembed=embed_chunks.enqueue)
    assert validation.decide(reject, alice, ValidationStatus.REJECTED)
    chunks = list(document.chunks.order_by("ordinal"))
    assert chunks[0].confidence == 1.0
    assert chunks[1].text == "the corrected text" and chunks[1].confidence == 1.0
    assert chunks[2].excluded
    # The correction is re-embedded by a job enqueued after the commit.
    work()
    chunks[1].refresh_from_db()
    assert chunks[1].embedding is not None and chunks[1].embedded_hash == chunks[1].text_hash
    events = list(ValidationEvent.objects.order_by("at"))
    assert [(e.action, e.actor) for e in events] == [("approved", alice), ("corrected", alice), ("rejected", alice)]
    assert events[1].before_text == "chunk number 1" and events[1].after_text == "the corrected text"
    assert not validation.decide(approve, alice, ValidationStatus.REJECTED)  # already decided


def test_the_audit_trail_is_append_only(team):
    workspace, alice, _ = team
    document = make_document(workspace, [0.3])
    validation.create_validation_tasks(document)
    validation.decide(ValidationTask.objects.get(), alice, ValidationStatus.APPROVED)
    event = ValidationEvent.objects.get()
    event.after_text = "rewritten history"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_a_correction_needs_text(team):
    workspace, alice, _ = team
    validation.create_validation_tasks(make_document(workspace, [0.3]))
    with pytest.raises(ValueError, match="corrected text"):
        validation.decide(ValidationTask.objects.get(), alice, ValidationStatus.CORRECTED, "  ",
                          reembed=embed_chunks.enqueue)
    assert ValidationTask.objects.get().status == ValidationStatus.PENDING


def test_batch_validation_decides_many_tasks_at_once(team):
    workspace, alice, bob = team
    validation.create_validation_tasks(make_document(workspace, [0.1] * 6))
    assert validation.decide_many(ValidationTask.objects.all(), bob, ValidationStatus.APPROVED) == 6
    assert set(ValidationTask.objects.values_list("status", flat=True)) == {ValidationStatus.APPROVED}
    assert ValidationEvent.objects.filter(actor=bob).count() == 6
    assert validation.decide_many(ValidationTask.objects.all(), bob, ValidationStatus.REJECTED) == 0


def test_the_queue_holds_the_validators_own_pending_tasks_by_priority(team):
    workspace, alice, bob = team
    low = make_document(workspace, [0.1, 0.1], priority=0)
    validation.create_validation_tasks(low)
    high = Document.objects.create(workspace=workspace, original_name="urgent.pdf", sha256="cd" * 32,
                                   status=DocumentStatus.COMPLETED, priority=9)
    Chunk.objects.create(document=high, ordinal=0, text="urgent", confidence=0.1)
    validation.create_validation_tasks(high)
    queue = list(validation.queue_for(alice)) + list(validation.queue_for(bob))
    assert sum(1 for t in queue if t.chunk.document == high) == 1
    for user in (alice, bob):
        priorities = [t.priority for t in validation.queue_for(user)]
        assert priorities == sorted(priorities, reverse=True)
        assert all(t.assignee == user for t in validation.queue_for(user))


def test_embed_chunks_is_on_the_ai_queue():
    assert embed_chunks.queue_name == "ai"
