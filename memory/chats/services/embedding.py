"""Embed messages and atoms in batches of 100, skipping what is embedded from the same text and model."""

import hashlib
import logging

from memory.providers.embeddings import EmbeddingConfig, EmbeddingError, build_provider, get_embedding_provider

from ..models import Atom, EmbeddingProviderConfig, Message

logger = logging.getLogger("memory.chats.embedding")

BATCH_SIZE = 100


def text_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provider_for(config=None):
    """The provider a config row names; the local row uses the MEMORY_EMBEDDINGS_* settings."""
    if config is None or config.kind == EmbeddingProviderConfig.Kind.LOCAL:
        return get_embedding_provider()
    base = EmbeddingConfig.from_settings()
    return build_provider(EmbeddingConfig(
        provider=config.kind, model_dir="", url=config.url or base.url, model=config.model or base.model,
        api_key=base.api_key, batch_size=base.batch_size, dimensions=base.dimensions, timeout=base.timeout))


def atom_text(atom):
    return f"{atom.title}\n{atom.content}"


def _embed(model, ids, text_of, fields, provider, on_batch):
    wanted = list(dict.fromkeys(ids))
    rows = list(model.objects.filter(pk__in=wanted).only("pk", "embedding_hash", "embedding_model", *fields))
    todo = []
    for row in rows:
        text = text_of(row)
        digest = text_hash(text)
        if not text.strip() or (row.embedding_hash == digest and row.embedding_model == provider.model_id):
            continue
        todo.append((row, text, digest))
    counts = {"success": 0, "failed": 0, "skipped": len(wanted) - len(todo)}
    for start in range(0, len(todo), BATCH_SIZE):
        batch = todo[start:start + BATCH_SIZE]
        done = _embed_batch(batch, provider)
        if done:
            model.objects.bulk_update(done, ["embedding", "embedding_hash", "embedding_model"])
        counts["success"] += len(done)
        counts["failed"] += len(batch) - len(done)
        if on_batch is not None:
            on_batch(counts["success"] + counts["failed"], len(todo))
    return counts


def _embed_batch(batch, provider):
    """Embed a batch; when the provider refuses it, try each item alone so one bad text costs one item."""
    try:
        vectors = provider.embed([text for _, text, _ in batch])
    except EmbeddingError as exc:
        if len(batch) == 1:
            logger.warning("embedding failed for %s %s: %s", type(batch[0][0]).__name__, batch[0][0].pk, exc)
            return []
        return [row for item in batch for row in _embed_batch([item], provider)]
    for (row, _, digest), vector in zip(batch, vectors):
        row.embedding, row.embedding_hash, row.embedding_model = vector, digest, provider.model_id
    return [row for row, _, _ in batch]


def embed_messages(message_ids, provider=None, on_batch=None):
    """Embed messages; return {success, failed, skipped}."""
    return _embed(Message, message_ids, lambda m: m.text, ["text"], provider or provider_for(), on_batch)


def embed_atoms(atom_ids, provider=None, on_batch=None):
    """Embed atoms (title and content); return {success, failed, skipped}."""
    return _embed(Atom, atom_ids, atom_text, ["title", "content"], provider or provider_for(), on_batch)
