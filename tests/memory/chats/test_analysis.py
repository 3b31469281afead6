"""Analysis runs: window, pre-filter, batches, calibrated proposals, RAG context, reviews."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import AnalysisRun, Atom, ChatJobStatus, Proposal
from memory.chats.services import analysis
from memory.chats.services.starting import rerun, start_analysis
from memory.providers.embeddings import get_embedding_provider
from tests.memory.factories import make_workspace
from tests.users import make_operator

from .factories import make_chat, make_messages

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "Can you renew the TLS certificate for the API before it expires on Friday?",
    "We decided to move the nightly backups to object storage.",
    "Does anyone know where the design files for the new landing page are?",
    "The payment gateway is down, customers get errors at checkout.",
    "thanks!",
    "lol",
    "good morning everyone",
]


@pytest.fixture
def chat():
    return make_chat(make_workspace())


def window(**fields):
    now = timezone.now()
    return {"window_start": now - dt.timedelta(days=1), "window_end": now + dt.timedelta(minutes=1), **fields}


def test_a_run_proposes_tasks_decisions_questions_and_problems_and_skips_chatter(chat, work):
    make_messages(chat, TEXTS)
    run = start_analysis(workspace=chat.workspace, chat=chat, batch_size=3, **window())
    work()
    run.refresh_from_db()
    assert run.status == ChatJobStatus.COMPLETED, run.error_message
    assert (run.messages_in_window, run.messages_kept, run.batches_total, run.batches_done) == (7, 7, 3, 3)
    kinds = {p.source_messages.get().text: p.kind for p in run.proposals.all()}
    assert kinds.get(TEXTS[1]) == "decision" and kinds.get(TEXTS[2]) == "question"
    assert kinds.get(TEXTS[3]) == "problem" and kinds.get(TEXTS[0]) == "task"
    assert not set(kinds) & set(TEXTS[4:])
    assert all(0.5 <= p.confidence <= 1 for p in run.proposals.all())
    assert set(run.timings) >= {"train_s", "batches_s", "total_s"}
    job = JobRun.objects.get(task_path="memory.chats.tasks.execute_analysis_run")
    assert job.status == RunStatus.SUCCEEDED and job.result["proposals"] == run.proposals_count


def test_the_window_and_the_prefilter_choose_the_messages(chat):
    make_messages(chat, ["An old message about the backup plan that is long enough"],
                  start=timezone.now() - dt.timedelta(days=5), first_id=100)
    make_messages(chat, ["short", "A long message about the backup plan for @bob", "A long message about lunch"])
    run = AnalysisRun.objects.create(workspace=chat.workspace, status=ChatJobStatus.RUNNING,
                                     filters={"keywords": ["backup"], "min_length": 10}, **window())
    analysis.execute(run)
    assert (run.messages_in_window, run.messages_kept) == (3, 1)
    run.filters = {"mentions_only": True}
    assert [m.text for m in analysis.window_messages(run) if analysis.keep(m, run.filters)] == [
        "A long message about the backup plan for @bob"]


def test_rag_context_comes_from_the_hybrid_search_over_atoms(chat):
    provider = get_embedding_provider()
    texts = ["Backups go to object storage since March", "The office coffee machine is broken"]
    atoms = [Atom.objects.create(workspace=chat.workspace, title=t, content=t, embedding=provider.embed([t])[0])
             for t in texts]
    query = "Where do the backups go?"
    assert analysis.rag_context(chat.workspace_id, query, provider.embed([query])[0])[0] == atoms[0].pk


def test_reviews_are_recorded_once_and_feed_the_next_run(chat):
    operator = make_operator()
    run = AnalysisRun.objects.create(workspace=chat.workspace, **window())
    proposal = Proposal.objects.create(run=run, kind="task", text="Order more coffee beans", confidence=0.6)
    proposal.reject(operator)
    proposal.refresh_from_db()
    assert proposal.review == "rejected" and proposal.reviewed_by == operator and proposal.reviewed_at
    with pytest.raises(ValueError, match="already rejected"):
        proposal.accept(operator)
    texts, labels = analysis.training_set(chat.workspace_id)
    assert ("Order more coffee beans", "none") in zip(texts, labels)


def test_a_rerun_replaces_the_previous_proposals(chat, work):
    make_messages(chat, TEXTS[:3])
    run = start_analysis(workspace=chat.workspace, **window())
    work()
    first = set(Proposal.objects.values_list("pk", flat=True))
    run.refresh_from_db()
    rerun(run)
    work()
    run.refresh_from_db()
    assert run.status == ChatJobStatus.COMPLETED and run.proposals_count == len(first)
    assert not first & set(Proposal.objects.values_list("pk", flat=True))
