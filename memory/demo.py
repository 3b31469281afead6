"""Demo data for `make run`: a small team's memories, fed through the real jobs."""

from django.db import transaction

from memory.chats.demo import load_demo_chat
from memory.documents.demo import load_demo_documents
from memory.models import Decision, Layer, Membership, Project, Source, Workspace
from memory.core.recording import record_memory
from memory.tasks import analyze_decision, process_graph_extraction_queue, schedule_reflections, update_graph_batch

DEMO_MEMORIES = [
    "Alice Chen leads the Platform team at Acme Corp.",
    "Acme Corp is located in Berlin.",
    "Bob Martin works at Acme Corp as a backend engineer.",
    "Acme Corp uses PostgreSQL for billing and Redis for the job queue.",
    "The nightly backup of the billing database failed because the disk was full.",
    "Database backup failed again last night: no space left on the disk.",
    "Another failed nightly backup of the billing database, the volume is full.",
    "We should move the backups to object storage before the end of the month.",
    "Bob needs to add an alert on free disk space for the database hosts.",
    "Globex Inc acquired Initech last year.",
    "Carol Diaz works for Globex Inc in New York City.",
    "Globex Inc is a customer of Acme Corp since 2024.",
    "Globex asked for single sign-on before renewing their contract.",
    "Users complained that the mobile app logs them out every day.",
    "Customers want to export their dashboards as PDF files.",
    "The quarterly budget review moved cloud spending into its own line item.",
    "Revenue grew twelve percent compared with the same quarter last year.",
    "We interviewed three candidates for the senior backend engineer role.",
    "New hires get a buddy for their first month to help them settle in.",
    "Alice Chen founded the reliability guild at Acme Corp.",
    "Dave Kim manages the Berlin office.",
    "The deploy pipeline fails when the container image is larger than two gigabytes.",
    "Let's follow up with Globex about the SSO timeline next week.",
    "Redis latency spiked when the cache eviction policy was set to allkeys-lru.",
]


def load_demo(owner=None):
    """Create the demo workspace and record its memories and a decision (idempotent by slug)."""
    if Workspace.objects.filter(slug="demo").exists():
        return None
    with transaction.atomic():
        workspace = Workspace.objects.create(name="Demo team", slug="demo")
        if owner is not None:
            Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
        project = Project.objects.create(workspace=workspace, name="Platform", slug="platform")
        load_demo_chat(workspace)
        for text in DEMO_MEMORIES:
            record_memory(project, text, layer=Layer.EPISODIC, source=Source.NOTE)
        decision = Decision.objects.create(
            workspace=workspace, project=project, title="Move backups to object storage",
            context="Nightly backups failed three times because the database disk was full.",
            options=["Grow the disk", "Move backups to object storage", "Back up less often"],
            chosen="Move backups to object storage",
            rationale="Because storage scales independently of the database host; the trade-off is egress cost.",
            owner=owner,
        )
        analyze_decision.enqueue(decision.pk)
        # Run the periodic jobs once now instead of waiting for their schedules: extraction first,
        # then (same queue and lane, so after it) the clustering of what was extracted.
        process_graph_extraction_queue.enqueue()
        update_graph_batch.enqueue()
        schedule_reflections.enqueue()
        load_demo_documents(workspace, owner, project=project)
    return project
