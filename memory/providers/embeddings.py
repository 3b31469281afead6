"""The embedding interface, its errors, and the per-process provider built from settings."""

import functools
import threading
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from memory.conf import memory_settings

# The interface lives apart so the providers built here can import it without importing this module.
from memory.providers.embedding_interface import (  # noqa: F401 - re-exported: callers import them from here
    EmbeddingError,
    EmbeddingProvider,
    ProviderUnavailable,
    normalize_rows,
)
from memory.providers.http_embeddings import OllamaEmbeddings, OpenAIEmbeddings
from memory.providers.onnx_minilm import OnnxSentenceEmbedder

PROVIDERS = ("local", "openai", "ollama")


@dataclass(frozen=True)
class EmbeddingConfig:
    """The MEMORY_EMBEDDINGS_* settings that decide which provider is built."""

    provider: str
    model_dir: str
    url: str
    model: str
    api_key: str = field(repr=False)  # kept out of reprs, logs and tracebacks
    batch_size: int
    dimensions: int
    timeout: float

    @classmethod
    def from_settings(cls):
        """Read the settings now, so override_settings and pytest's settings fixture apply."""
        return cls(
            provider=memory_settings.EMBEDDINGS_PROVIDER.strip().lower(),
            model_dir=memory_settings.EMBEDDINGS_MODEL_DIR,
            url=memory_settings.EMBEDDINGS_URL,
            model=memory_settings.EMBEDDINGS_MODEL,
            api_key=memory_settings.EMBEDDINGS_API_KEY,
            batch_size=memory_settings.EMBEDDINGS_BATCH_SIZE,
            dimensions=memory_settings.EMBEDDINGS_DIMENSIONS,
            timeout=memory_settings.EMBEDDINGS_TIMEOUT_SECONDS,
        )


_building = threading.Lock()


def get_embedding_provider() -> EmbeddingProvider:
    """Return this process's provider for the current settings, building it on first use."""
    config = EmbeddingConfig.from_settings()
    # lru_cache alone lets two threads that ask at once both load the model.
    with _building:
        return build_provider(config)


# Keyed on the whole configuration: the model loads once per process, and a test that changes
# the settings gets a provider for its own configuration instead of a stale one.
@functools.lru_cache(maxsize=8)
def build_provider(config: EmbeddingConfig) -> EmbeddingProvider:
    """Build the provider a configuration names."""
    if config.batch_size < 1:
        raise ImproperlyConfigured("MEMORY_EMBEDDINGS_BATCH_SIZE must be at least 1.")
    if config.provider == "local":
        if config.model_dir:
            return OnnxSentenceEmbedder.from_directory(config.model_dir, batch_size=config.batch_size)
        return OnnxSentenceEmbedder.packaged(batch_size=config.batch_size)
    if config.provider in ("openai", "ollama"):
        cls = OpenAIEmbeddings if config.provider == "openai" else OllamaEmbeddings
        return cls(
            url=config.url or cls.default_url,
            model=config.model or cls.default_model,
            dimensions=config.dimensions,
            api_key=config.api_key,
            batch_size=config.batch_size,
            timeout=config.timeout,
        )
    raise ImproperlyConfigured(
        f"MEMORY_EMBEDDINGS_PROVIDER is {config.provider!r}; expected one of {', '.join(PROVIDERS)}."
    )
