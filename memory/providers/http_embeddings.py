"""Embeddings from an OpenAI-compatible or an Ollama server, over the standard library's urllib."""

import json

import numpy as np

from memory.providers.embedding_interface import EmbeddingError, ProviderUnavailable, normalize_rows
from memory.providers.http_json import HttpStatusError, Unreachable, post_json


class HttpEmbeddings:
    """Post batches of texts to an embedding endpoint and check what comes back."""

    default_url = ""
    default_model = ""
    path = ""
    name = ""

    def __init__(self, *, url, model, dimensions, api_key="", batch_size=32, timeout=30.0):
        if not url:
            raise ProviderUnavailable(f"The {self.name} embedding provider needs MEMORY_EMBEDDINGS_URL.")
        if not model:
            raise ProviderUnavailable(f"The {self.name} embedding provider needs MEMORY_EMBEDDINGS_MODEL.")
        self.endpoint = url.rstrip("/") + self.path
        self.model = model
        self.model_id = f"{self.name}:{model}"
        self.dimensions = dimensions
        self.api_key = api_key
        self.batch_size = batch_size
        self.timeout = timeout

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return one unit-length float32 row per text, in the order given."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        batches = [texts[i:i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        vectors = np.concatenate([self._embed_batch(batch) for batch in batches])
        return normalize_rows(vectors)

    def _embed_batch(self, texts):
        answer = self._post({"model": self.model, "input": texts})
        try:
            rows = self.vectors_from(answer)
            vectors = np.array(rows, dtype=np.float32)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"{self.endpoint} answered an unexpected body: {exc!r}") from exc
        if vectors.shape != (len(texts), self.dimensions):
            raise EmbeddingError(
                f"{self.endpoint} returned vectors of shape {vectors.shape} for {len(texts)} texts; "
                f"expected {self.dimensions} dimensions (MEMORY_EMBEDDINGS_DIMENSIONS) for model {self.model!r}."
            )
        if not np.isfinite(vectors).all():
            raise EmbeddingError(f"{self.endpoint} returned a vector with NaN or infinite values.")
        return vectors

    def vectors_from(self, answer):
        """Return the list of vectors in a decoded response body, in input order."""
        raise NotImplementedError

    def _post(self, payload):
        try:
            body = post_json(self.endpoint, payload, api_key=self.api_key, timeout=self.timeout)
        except HttpStatusError as exc:
            detail = exc.body[:500].decode(errors="replace")
            raise EmbeddingError(f"{self.endpoint} answered HTTP {exc.status}: {detail}") from exc
        except Unreachable as exc:
            raise EmbeddingError(f"{self.endpoint} could not be reached: {exc.reason}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise EmbeddingError(f"{self.endpoint} answered a body that is not JSON: {body[:200]!r}") from exc


class OpenAIEmbeddings(HttpEmbeddings):
    """POST {url}/v1/embeddings as OpenAI, vLLM, llama.cpp and text-embeddings-inference serve it."""

    default_url = "https://api.openai.com"
    path = "/v1/embeddings"
    name = "openai"

    def __init__(self, *, url, **kwargs):
        # Accept a base URL given with or without OpenAI's /v1 suffix.
        super().__init__(url=url.rstrip("/").removesuffix("/v1"), **kwargs)

    def vectors_from(self, answer):
        """Return data[i].embedding ordered by index (the API does not promise input order)."""
        return [item["embedding"] for item in sorted(answer["data"], key=lambda item: item["index"])]


class OllamaEmbeddings(HttpEmbeddings):
    """POST {url}/api/embed as Ollama serves it; its all-minilm is all-MiniLM-L6-v2."""

    default_url = "http://127.0.0.1:11434"
    default_model = "all-minilm"
    path = "/api/embed"
    name = "ollama"

    def vectors_from(self, answer):
        """Return the embeddings list."""
        return answer["embeddings"]
