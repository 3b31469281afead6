import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from memory.providers.openai_chat import OpenAIChatGenerator
from memory.providers.text_generation import Answer, Assessment, ProviderError, Reflection, Summary, Triple

TEXTS = [
    "The Postgres cluster ran out of disk on Monday.",
    "Lunch was pizza again. We should add disk alerts to the Postgres cluster.",
    "TODO: email Alice about the storage budget.",
]
DECISION = dict(
    title="Store memories in Postgres",
    context="We need one store for memories with vector search.",
    options=["Postgres with pgvector", "Qdrant"],
    chosen="Postgres with pgvector",
    rationale="Because we already run it.",
    owner="alice",
    decided_on="2025-03-01",
)


# The OpenAI-compatible provider, against a server of our own on 127.0.0.1

class ChatServer:
    """A chat completions endpoint that records requests and answers from a script."""

    def __init__(self):
        self.requests = []
        self.answers = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload, delay = server.answers.pop(0)
                time.sleep(delay)
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and hung up, as the timeout test wants

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def answer(self, content, status=200, delay=0.0):
        """Queue a completion whose message content is content (a dict becomes JSON)."""
        text = json.dumps(content) if isinstance(content, dict) else content
        self.answers.append((status, {"choices": [{"message": {"role": "assistant", "content": text}}]}, delay))

    def respond(self, status, payload):
        """Queue a raw answer: any status and body."""
        self.answers.append((status, payload, 0.0))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def chat_server():
    server = ChatServer()
    yield server
    server.close()


@pytest.fixture
def remote(chat_server):
    return OpenAIChatGenerator(chat_server.url, "test-model", api_key="sk-test", timeout=2)


def test_it_posts_a_deterministic_json_chat_request(chat_server, remote):
    chat_server.answer({"summary": "Disk ran out.", "key_points": ["disk"], "source_indexes": [0, 2, 9, 0]})

    summary = remote.summarize(TEXTS, max_sentences=1)

    assert summary == Summary("Disk ran out.", ["disk"], [0, 2])
    [request] = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "test-model"
    assert body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    assert "[2] TODO: email Alice" in body["messages"][1]["content"]


def test_a_base_url_ending_in_v1_is_accepted(chat_server):
    generator = OpenAIChatGenerator(chat_server.url + "/v1/", "llama3.2")
    chat_server.answer({"triples": []})

    assert generator.extract_triples("Bob works at Globex.") == []
    assert chat_server.requests[0]["path"] == "/v1/chat/completions"
    assert "Authorization" not in chat_server.requests[0]["headers"]


def test_it_parses_triples_assessments_and_reflections(chat_server, remote):
    chat_server.answer({"triples": [{"subject": "Bob", "predicate": "Works At", "object": "Globex", "confidence": 0.9}]})
    chat_server.answer("```json\n" + json.dumps({"score": 0.4, "findings": ["No owner."]}) + "\n```")
    chat_server.answer({"summary": "S.", "insights": ["I."], "actions": ["Add alerts."]})

    assert remote.extract_triples("Bob works at Globex.") == [Triple("Bob", "works_at", "Globex", 0.9)]
    assert remote.assess_decision(**DECISION) == Assessment(0.4, ["No owner."])
    assert remote.reflect(TEXTS) == Reflection("S.", ["I."], ["Add alerts."])
    assert "alternatives (weight 0.05)" in chat_server.requests[1]["body"]["messages"][1]["content"]


def test_an_answer_is_asked_from_the_numbered_passages_only_and_cites_them(chat_server, remote):
    chat_server.answer({"answer": " It ran out of disk on Monday [0]. ", "source_indexes": [1, 0, 7, -1, 0]})

    answer = remote.answer("What happened to the Postgres cluster?", TEXTS)

    assert answer == Answer("It ran out of disk on Monday [0].", [0, 1])
    [request] = chat_server.requests
    body = request["body"]
    assert (body["model"], body["temperature"], body["response_format"]) == ("test-model", 0, {"type": "json_object"})
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "only from the numbered passages" in system["content"]
    assert "cite" in system["content"] and '"source_indexes"' in system["content"]
    assert user["content"].startswith("Question: What happened to the Postgres cluster?\n")
    for index, text in enumerate(TEXTS):
        assert f"[{index}] {text}" in user["content"]


def test_a_long_question_leaves_room_for_the_passages(chat_server):
    generator = OpenAIChatGenerator(chat_server.url, "m", max_input_chars=3000)
    chat_server.answer({"answer": "No.", "source_indexes": []})

    generator.answer("why " * 5000, TEXTS)

    content = chat_server.requests[0]["body"]["messages"][1]["content"]
    assert "[0] The Postgres cluster" in content and len(content) < 3100


@pytest.mark.parametrize(
    "answer", [{"source_indexes": [0]}, {"answer": None, "source_indexes": []}, {"answer": "A.", "source_indexes": "0"}]
)
def test_a_bad_answer_is_a_provider_error(chat_server, remote, answer):
    chat_server.answer(answer)

    with pytest.raises(ProviderError):
        remote.answer("What happened?", TEXTS)


def test_an_http_error_while_answering_is_a_provider_error(chat_server, remote):
    chat_server.respond(500, {"error": {"message": "model not loaded"}})

    with pytest.raises(ProviderError, match="HTTP 500: model not loaded"):
        remote.answer("What happened?", TEXTS)


def test_empty_input_makes_no_request(chat_server, remote):
    assert remote.summarize(["", " "]) == Summary("", [], [])
    assert remote.extract_triples("") == []
    assert remote.reflect([]) == Reflection("", [], [])
    assert remote.answer("What happened?", ["", " "]) == Answer("", [])
    assert remote.answer("  ", TEXTS) == Answer("", [])
    assert chat_server.requests == []


def test_an_http_error_becomes_a_provider_error_with_the_servers_message(chat_server, remote):
    chat_server.respond(500, {"error": {"message": "model not loaded"}})

    with pytest.raises(ProviderError, match="HTTP 500: model not loaded"):
        remote.extract_triples("Bob works at Globex.")


def test_a_body_that_is_not_json_is_a_provider_error(chat_server, remote):
    chat_server.respond(200, b"<html>gateway</html>")

    with pytest.raises(ProviderError, match="not JSON"):
        remote.extract_triples("Bob works at Globex.")


def test_a_body_that_is_not_a_completion_is_a_provider_error(chat_server, remote):
    chat_server.respond(200, {"object": "list", "data": []})

    with pytest.raises(ProviderError, match="not a chat completion"):
        remote.extract_triples("Bob works at Globex.")


def test_an_answer_that_is_not_json_is_a_provider_error(chat_server, remote):
    chat_server.answer("Sure! Bob works at Globex.")

    with pytest.raises(ProviderError, match="answer is not JSON"):
        remote.extract_triples("Bob works at Globex.")


@pytest.mark.parametrize(
    "answer",
    [
        {"summary": "S.", "key_points": ["k"]},
        {"summary": 3, "key_points": [], "source_indexes": []},
        {"summary": "S.", "key_points": "k", "source_indexes": []},
        {"summary": "S.", "key_points": [], "source_indexes": [True]},
    ],
)
def test_missing_or_mistyped_summary_fields_are_provider_errors(chat_server, remote, answer):
    chat_server.answer(answer)

    with pytest.raises(ProviderError):
        remote.summarize(TEXTS)


@pytest.mark.parametrize(
    "answer",
    [
        {"score": 7, "findings": []},
        {"score": "0.5", "findings": []},
        {"findings": []},
        {"score": 0.5},
    ],
)
def test_a_bad_assessment_is_a_provider_error(chat_server, remote, answer):
    chat_server.answer(answer)

    with pytest.raises(ProviderError):
        remote.assess_decision(**DECISION)


def test_an_incomplete_triple_is_a_provider_error(chat_server, remote):
    chat_server.answer({"triples": [{"subject": "Bob", "predicate": "works_at", "confidence": 0.9}]})

    with pytest.raises(ProviderError):
        remote.extract_triples("Bob works at Globex.")


def test_a_slow_server_times_out_as_a_provider_error(chat_server):
    generator = OpenAIChatGenerator(chat_server.url, "slow-model", timeout=0.1)
    chat_server.answer({"triples": []}, delay=0.5)

    with pytest.raises(ProviderError, match="Could not reach"):
        generator.extract_triples("Bob works at Globex.")


def test_an_unreachable_server_is_a_provider_error(chat_server):
    url = chat_server.url
    chat_server.close()
    chat_server.close = lambda: None

    with pytest.raises(ProviderError, match="Could not reach"):
        OpenAIChatGenerator(url, "m", timeout=1).extract_triples("Bob works at Globex.")
