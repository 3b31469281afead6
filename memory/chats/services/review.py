"""Reviewing proposals: accepting a task or decision records it as a memory.

A review is final. Rejecting a proposal that was accepted is refused (the page and the admin say
so): the memory it became may already be edited, linked in the graph or cited, so silently deleting
it would lose work. To take an acceptance back, delete that memory; the proposal keeps its review.
Accepted questions and problems become no memory; their review only teaches the classifier.
"""

from django.db import transaction
from django.utils.text import slugify

from memory.core.recording import record_memory
from memory.models import Layer, Project, Source

from ..models import Proposal

# A task is episodic (it gets done and fades); a decision is lasting knowledge.
RECORDED_KINDS = {Proposal.Kind.TASK: Layer.EPISODIC, Proposal.Kind.DECISION: Layer.SEMANTIC}
CHATS_PROJECT = "Chats"


def project_for(run):
    """The run's project, or the workspace's "chats" project, made the first time it is needed."""
    if run.project_id:
        return run.project
    project, _ = Project.objects.get_or_create(workspace_id=run.workspace_id, slug=slugify(CHATS_PROJECT),
                                               defaults={"name": CHATS_PROJECT})
    return project


def accept_proposal(proposal, user):
    """Accept an open proposal; a task or decision becomes a memory linked to it and its messages."""
    with transaction.atomic():
        # Locked: two reviewers accepting at once must not record the memory twice.
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("run__project").get(pk=proposal.pk)
        if proposal.review != Proposal.Review.OPEN:
            raise ValueError(f"proposal {proposal.pk} was already {proposal.review}")
        memory = None
        if proposal.kind in RECORDED_KINDS:
            messages = list(proposal.source_messages.select_related("author").order_by("sent_at", "pk"))
            metadata = {"kind": proposal.kind, "proposal_id": proposal.pk, "analysis_run_id": proposal.run_id,
                        "chat_id": messages[0].chat_id if messages else None,
                        "message_ids": [m.pk for m in messages], "confidence": proposal.confidence}
            if messages and messages[0].author is not None:
                metadata["speaker"] = str(messages[0].author)
            memory = record_memory(project_for(proposal.run), proposal.text, source=Source.MESSAGE,
                                   layer=RECORDED_KINDS[proposal.kind],
                                   importance=min(1.0, max(0.0, proposal.confidence)), metadata=metadata)
        proposal.accept(user, memory)
    return proposal


def reject_proposal(proposal, user):
    """Reject an open proposal (an accepted or rejected one is refused with ValueError)."""
    proposal.reject(user)
    return proposal
