"""The embedding interface and its errors, shared by the providers (which embeddings.py builds)."""

from typing import Protocol, runtime_checkable

import numpy as np
from django.core.exceptions import ImproperlyConfigured


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turn texts into unit-length float32 vectors of a fixed width."""

    model_id: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dimensions), one L2-normalised row per text."""
        ...


class ProviderUnavailable(ImproperlyConfigured):
    """The configured provider cannot be built: a missing package, model file or setting."""


class EmbeddingError(RuntimeError):
    """A provider failed to embed: an HTTP error, an unreadable answer or a vector of the wrong width."""


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
