"""Accepting a proposal makes it real: tasks and decisions become memories linked back to it."""

import datetime as dt

import pytest
from django.utils import timezone

from memory.chats.models import AnalysisRun, Proposal
from memory.chats.services.review import accept_proposal, reject_proposal
from memory.models import Layer, Memory, Project, Source
from memory.search.hybrid import hybrid_search
from tests.memory.factories import make_workspace
from tests.users import make_operator, make_staff

from .factories import make_author, make_chat, make_messages
from .test_pages import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run():
    workspace = make_workspace()
    now = timezone.now()
    return AnalysisRun.objects.create(workspace=workspace, chat=make_chat(workspace),
                                      window_start=now - dt.timedelta(days=1), window_end=now)


def proposal_for(run, kind, text, confidence=0.8):
    proposal = Proposal.objects.create(run=run, kind=kind, text=text, confidence=confidence)
    author = run.workspace.chat_authors.first() or make_author(run.workspace, first_name="Alice")
    [message] = make_messages(run.chat, [text], author=author, first_id=Proposal.objects.count())
    proposal.source_messages.add(message)
    return proposal, message


def test_an_accepted_task_becomes_a_memory_linked_to_its_proposal_and_messages(run, work):
    proposal, message = proposal_for(run, "task", "Renew the TLS certificate before Friday", 0.83)
    reviewer = make_operator()
    accept_proposal(proposal, reviewer)
    proposal.refresh_from_db()
    memory = proposal.memory
    assert proposal.review == "accepted" and proposal.reviewed_by == reviewer and memory is not None
    assert memory.content == "Renew the TLS certificate before Friday" and memory.source == Source.MESSAGE
    assert memory.layer == Layer.EPISODIC and memory.importance == pytest.approx(0.83)
    assert memory.metadata == {"kind": "task", "proposal_id": proposal.pk, "analysis_run_id": run.pk,
                               "chat_id": run.chat_id, "message_ids": [message.pk], "confidence": 0.83,
                               "speaker": "Alice"}
    assert memory.project == Project.objects.get(workspace=run.workspace, slug="chats")
    assert memory.chat_proposal == proposal
    work()  # its enrichment jobs were enqueued after the commit
    memory.refresh_from_db()
    assert memory.embedding is not None


def test_an_accepted_decision_is_lasting_and_lands_in_the_runs_project(run):
    project = Project.objects.create(workspace=run.workspace, name="Infra", slug="infra")
    run.project = project
    run.save(update_fields=["project"])
    proposal, _ = proposal_for(run, "decision", "Nightly backups move to object storage")
    accept_proposal(proposal, make_operator())
    memory = Memory.objects.get()
    assert memory.project == project and memory.layer == Layer.SEMANTIC and memory.metadata["kind"] == "decision"
    assert not Project.objects.filter(slug="chats").exists()


def test_an_accepted_decision_is_found_by_search(run, work):
    proposal, _ = proposal_for(run, "decision", "We chose Postgres over MongoDB for the ledger")
    accept_proposal(proposal, make_operator())
    work()
    proposal.refresh_from_db()
    hits = hybrid_search(Memory.objects.filter(workspace=run.workspace), "Postgres ledger")
    assert [hit.memory.pk for hit in hits] == [proposal.memory_id]


def test_accepted_questions_and_problems_record_no_memory(run):
    reviewer = make_operator()
    for kind in ("question", "problem"):
        proposal, _ = proposal_for(run, kind, f"A {kind} from the chat")
        accept_proposal(proposal, reviewer)
        proposal.refresh_from_db()
        assert proposal.review == "accepted" and proposal.memory is None
    assert not Memory.objects.exists()


def test_rejecting_an_accepted_proposal_is_refused_and_keeps_its_memory(run):
    proposal, _ = proposal_for(run, "task", "Rotate the API keys this week")
    accept_proposal(proposal, make_operator())
    with pytest.raises(ValueError, match="already accepted"):
        reject_proposal(Proposal.objects.get(pk=proposal.pk), make_operator("second"))
    with pytest.raises(ValueError, match="already accepted"):
        accept_proposal(proposal, make_operator("third"))
    proposal.refresh_from_db()
    assert proposal.review == "accepted" and Memory.objects.count() == 1 and proposal.memory is not None


def test_a_stale_copy_cannot_review_again(run):
    proposal, _ = proposal_for(run, "task", "Order more coffee beans")
    stale = Proposal.objects.get(pk=proposal.pk)
    reject_proposal(proposal, make_operator())
    with pytest.raises(ValueError, match="already rejected"):
        stale.reject(make_operator("second"))
    with pytest.raises(ValueError, match="already rejected"):
        accept_proposal(stale, make_operator("third"))
    assert not Memory.objects.exists()


def test_the_page_records_the_memory_and_refuses_a_later_reject(run):
    reviewer = make_staff()  # staff alone sees nothing: a member of the workspace
    run.workspace.memberships.create(user=reviewer, role="member")
    proposal, _ = proposal_for(run, "decision", "Weekly releases on Thursdays")
    client = client_for(reviewer)
    client.post(f"/chats/proposals/{proposal.pk}/review/", {"decision": "accept"})
    page = client.get(f"/chats/analysis/{run.pk}/").content.decode()
    memory = Memory.objects.get()
    assert f'data-memory="{memory.pk}"' in page and f"decision memory #{memory.pk}" in page
    response = client.post(f"/chats/proposals/{proposal.pk}/review/", {"decision": "reject"}, follow=True)
    assert "already accepted" in response.content.decode()
    assert Memory.objects.filter(pk=memory.pk).exists()
