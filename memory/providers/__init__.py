"""Back-ends behind one small interface each: embeddings (local ONNX MiniLM, OpenAI-compatible, Ollama)."""

from memory.providers.embeddings import (
    EmbeddingError,
    EmbeddingProvider,
    ProviderUnavailable,
    get_embedding_provider,
    normalize_rows,
)

__all__ = ["EmbeddingError", "EmbeddingProvider", "ProviderUnavailable", "get_embedding_provider", "normalize_rows"]
