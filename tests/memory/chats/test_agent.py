"""The LLM agent for analysis runs: an OpenAI-compatible endpoint on 127.0.0.1, good answers and bad."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs.models import JobRun

from memory.chats.models import AgentConfig, AnalysisRun, Atom, ChatJobStatus
from memory.chats.services import analysis
from memory.chats.services.proposers import parse_reply
from memory.chats.services.starting import start_analysis
from memory.providers.embeddings import get_embedding_provider
from memory.providers.generation_interface import ProviderError
from tests.memory.factories import make_workspace

from .factories import make_chat, make_messages
from .fake_servers import FakeServer, completion

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "Can you renew the TLS certificate for the API before Friday?",
    "We decided to move the nightly backups to object storage.",
    "thanks!",
]
COMPLETIONS = "/v1/chat/completions"


@pytest.fixture
def llm():
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture
def chat():
    return make_chat(make_workspace())


def llm_agent(server, **fields):
    return AgentConfig.objects.create(name="llm analysis", purpose=AgentConfig.Purpose.ANALYSIS,
                                      kind=AgentConfig.Kind.LLM, url=f"{server.url}/v1", model="tiny-test",
                                      **fields)


def new_run(chat, agent, **fields):
    now = timezone.now()
    return AnalysisRun.objects.create(workspace=chat.workspace, chat=chat, agent=agent, status=ChatJobStatus.RUNNING,
                                      window_start=now - dt.timedelta(days=1),
                                      window_end=now + dt.timedelta(minutes=1), **fields)


def test_an_llm_agent_makes_the_proposals_from_its_strict_json(chat, llm, work, settings):
    settings.MEMORY_LLM_API_KEY = "sk-test"
    make_messages(chat, TEXTS)
    agent = llm_agent(llm, parameters={"min_confidence": 0.6})
    llm.route(COMPLETIONS, completion({"proposals": [
        {"index": 0, "kind": "task", "text": "Renew the API's TLS certificate before Friday", "confidence": 0.9},
        {"index": 1, "kind": "decision", "text": "Nightly backups go to object storage", "confidence": 0.8},
        {"index": 2, "kind": "task", "text": "Say thanks", "confidence": 0.3},  # under min_confidence
    ]}))
    now = timezone.now()
    run = start_analysis(workspace=chat.workspace, chat=chat, window_start=now - dt.timedelta(days=1),
                         window_end=now + dt.timedelta(minutes=1), agent=agent)
    work()
    run.refresh_from_db()
    assert run.status == ChatJobStatus.COMPLETED, run.error_message
    assert run.error_log == [] and run.proposals_count == 2
    made = {p.kind: (p.text, p.confidence, p.source_messages.get().text) for p in run.proposals.all()}
    assert made == {"task": ("Renew the API's TLS certificate before Friday", 0.9, TEXTS[0]),
                    "decision": ("Nightly backups go to object storage", 0.8, TEXTS[1])}
    [request] = llm.requests
    assert request["body"]["model"] == "tiny-test" and request["body"]["response_format"] == {"type": "json_object"}
    prompt = request["body"]["messages"][1]["content"]
    assert all(f"[{i}] {text}" in prompt for i, text in enumerate(TEXTS))
    assert '"proposals"' in request["body"]["messages"][0]["content"]


def test_junk_and_malformed_items_are_counted_in_the_error_log_never_a_crash(chat, llm):
    make_messages(chat, TEXTS + ["The payment gateway is down for customers in Germany."])
    llm.route(COMPLETIONS,
              completion("Sure! Here are the proposals you asked for."),          # batch 1: not JSON
              completion({"proposals": [                                          # batch 2: half good
                  {"index": 0, "kind": "problem", "text": "Thanks is not a problem", "confidence": 0.7},
                  {"index": 1, "kind": "problem", "text": "Payments fail in Germany", "confidence": 0.95},
                  {"index": 7, "kind": "task", "text": "No such message", "confidence": 0.9},
                  {"index": 1, "kind": "bug", "text": "Unknown kind", "confidence": 0.9},
                  {"index": 1, "kind": "task", "text": "", "confidence": 0.9},
                  {"index": 1, "kind": "task", "text": "Too sure", "confidence": 1.5},
                  {"index": 1, "kind": "task", "text": "A bool", "confidence": True},
                  "just a string",
                  {"index": 0, "kind": "question", "text": "A second one for message 0", "confidence": 0.8},
              ]}))
    run = new_run(chat, llm_agent(llm), batch_size=2)
    counts = analysis.execute(run)
    assert counts["errors"] == 1 and counts["malformed"] == 7 and run.proposals_count == 2
    first, second = run.error_log
    assert first["batch"] == 1 and "not JSON" in first["error"]
    assert second["batch"] == 2 and second["malformed"] == 7
    assert "index 7" in second["error"] and "'bug'" in second["error"]
    assert sorted(p.text for p in run.proposals.all()) == ["Payments fail in Germany", "Thanks is not a problem"]


@pytest.mark.parametrize("answer, reason", [
    ((500, {"error": {"message": "model overloaded"}}), "HTTP 500: model overloaded"),
    ((200, b"<html>502 Bad Gateway</html>"), "not JSON"),
    ((200, {"id": "x", "object": "chat.completion"}), "not a chat completion"),
    (completion({"answer": "no proposals key"})[:2], "no list 'proposals'"),
    (completion('["a", "list"]')[:2], "not a JSON object"),
])
def test_an_unusable_reply_fails_its_batch_with_the_reason(chat, llm, answer, reason):
    make_messages(chat, TEXTS[:2])
    llm.route(COMPLETIONS, answer)
    run = new_run(chat, llm_agent(llm))
    with pytest.raises(RuntimeError, match="every batch failed"):
        analysis.execute(run)
    [entry] = run.error_log
    assert reason in entry["error"] and run.proposals_count == 0


def test_a_slow_llm_times_out_and_the_run_goes_on_with_the_next_batch(chat, llm):
    make_messages(chat, TEXTS[:2])
    llm.route(COMPLETIONS,
              completion({"proposals": []}, delay=2.0),
              completion({"proposals": [{"index": 0, "kind": "decision", "text": "Backups to object storage",
                                         "confidence": 0.9}]}))
    run = new_run(chat, llm_agent(llm, timeout_seconds=0.3), batch_size=1)
    counts = analysis.execute(run)
    assert counts == {"messages": 2, "kept": 2, "batches": 2, "proposals": 1, "errors": 1, "malformed": 0}
    [entry] = run.error_log
    assert entry["batch"] == 1 and "Could not reach" in entry["error"] and "timed out" in entry["error"]
    assert run.proposals.get().source_messages.get().text == TEXTS[1]


def test_an_unreachable_llm_fails_the_run_with_the_reason_in_the_log(chat, work):
    make_messages(chat, TEXTS[:1])
    closed = FakeServer()
    closed.close()  # nothing listens on its port any more
    agent = AgentConfig.objects.create(name="gone", purpose=AgentConfig.Purpose.ANALYSIS, kind=AgentConfig.Kind.LLM,
                                       url=closed.url, model="m", timeout_seconds=2)
    now = timezone.now()
    run = start_analysis(workspace=chat.workspace, chat=chat, window_start=now - dt.timedelta(days=1),
                         window_end=now + dt.timedelta(minutes=1), agent=agent)
    work()
    run.refresh_from_db()
    assert run.status == ChatJobStatus.FAILED and "every batch failed" in run.error_message
    assert "Could not reach" in run.error_log[0]["error"]


def test_with_rag_the_prompt_carries_what_the_team_already_knows(chat, llm):
    make_messages(chat, ["Where do the nightly backups go now?"])
    provider = get_embedding_provider()
    known = "Nightly backups go to object storage since March"
    Atom.objects.create(workspace=chat.workspace, title="backups", content=known, embedding=provider.embed([known])[0])
    llm.route(COMPLETIONS, completion({"proposals": [
        {"index": 0, "kind": "question", "text": "Where do backups go?", "confidence": 0.7}]}))
    run = new_run(chat, llm_agent(llm), use_rag=True)
    analysis.execute(run)
    assert known in llm.requests[0]["body"]["messages"][1]["content"]
    assert run.proposals.get().context == [Atom.objects.get().pk]


def test_the_default_agent_stays_local_and_calls_no_server(chat, llm):
    make_messages(chat, TEXTS)
    run = new_run(chat, None)
    analysis.execute(run)
    assert llm.requests == [] and run.proposals.filter(kind="decision").exists()


def test_parse_reply_rejects_a_reply_without_a_list():
    with pytest.raises(ProviderError):
        parse_reply({"proposals": {"index": 0}}, 1)
    assert parse_reply({"proposals": []}, 3) == ([], [])


# Knowledge extraction with an LLM agent row

HIRING = "We decided to hire two backend engineers before the end of the quarter."
OUTAGE = "The staging cluster has been down since this morning, deploys all fail."


def knowledge_agent(server, **fields):
    # The migration seeds "local knowledge" as the default; the LLM row takes its place.
    AgentConfig.objects.filter(purpose=AgentConfig.Purpose.KNOWLEDGE).update(is_default=False)
    return AgentConfig.objects.create(name="llm knowledge", purpose=AgentConfig.Purpose.KNOWLEDGE, is_default=True,
                                      kind=AgentConfig.Kind.LLM, url=server.url, model="tiny-test", **fields)


def test_a_knowledge_agent_gives_the_atoms_kinds_and_titles(chat, llm, work):
    from memory.chats.tasks import extract_knowledge_from_messages

    messages = make_messages(chat, [HIRING, OUTAGE, "ok"])
    knowledge_agent(llm)
    llm.route(COMPLETIONS, completion({"atoms": [
        {"index": 0, "kind": "decision", "title": "Hire two backend engineers this quarter"},
        {"index": 1, "kind": "problem", "title": "Staging cluster down, deploys fail"},
    ]}))
    extract_knowledge_from_messages.enqueue([m.pk for m in messages], chat_id=chat.pk)
    work()
    atoms = {a.content: (a.kind, a.title) for a in Atom.objects.all()}
    assert atoms == {HIRING: ("decision", "Hire two backend engineers this quarter"),
                     OUTAGE: ("problem", "Staging cluster down, deploys fail")}
    prompt = llm.requests[0]["body"]["messages"][1]["content"]
    assert f"[0] {HIRING}" in prompt and f"[1] {OUTAGE}" in prompt and "ok" not in prompt.split("\n")[-1]
    result = JobRun.objects.get(task_path="memory.chats.tasks.extract_knowledge_from_messages").result
    assert result["agent_problems"] == 0 and result["atoms_created"] == 2


def test_a_bad_knowledge_agent_falls_back_to_the_local_rules_and_says_so(chat, llm):
    from memory.chats.services import knowledge

    messages = make_messages(chat, [HIRING, OUTAGE])
    knowledge_agent(llm, timeout_seconds=0.3)
    llm.route(COMPLETIONS, completion({"atoms": [
        {"index": 0, "kind": "rumour", "title": "Not a kind"},
        {"index": 1, "kind": "problem", "title": "Staging is down"}]}))
    counts = knowledge.extract_knowledge([m.pk for m in messages])
    kinds = dict(Atom.objects.values_list("content", "kind"))
    assert kinds[HIRING] == knowledge.atom_kind(HIRING) == "decision"  # the local rule
    assert Atom.objects.get(content=OUTAGE).title == "Staging is down"
    assert counts["agent_problems"] == 2 and "'rumour'" in counts["agent_log"][0]
    Atom.objects.all().delete()
    llm.route(COMPLETIONS, completion({"atoms": []}, delay=2.0))  # a timeout: everything stays local
    counts = knowledge.extract_knowledge([m.pk for m in messages])
    assert counts["atoms_created"] == 2 and "timed out" in counts["agent_log"][0]
    assert Atom.objects.get(content=OUTAGE).kind == knowledge.atom_kind(OUTAGE)
