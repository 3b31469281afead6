"""Token counts in the embedding model's own word pieces (its tokenizer.json, via `tokenizers`).

The local model's tokenizer is the one that counts: the packaged all-MiniLM-L6-v2 tokenizer, or
MEMORY_EMBEDDINGS_MODEL_DIR's tokenizer.json when a directory model is configured. An HTTP
embedding provider (OpenAI, Ollama) does not publish its tokenizer to us, so its texts are counted
with the packaged MiniLM tokenizer too: a WordPiece count, which is at least the BPE count for
English prose, so a window that fits here fits there.
"""

import functools
from pathlib import Path

from memory.conf import memory_settings
from memory.providers.onnx_minilm import packaged_tokenizer_path

# [CLS] and [SEP]: what the model adds around every text, inside its sequence limit.
SPECIAL_TOKENS = 2


@functools.lru_cache(maxsize=4)
def _tokenizer(path):
    from tokenizers import Tokenizer  # noqa: PLC0415 - as in onnx_minilm: loaded only when counting

    tokenizer = Tokenizer.from_file(path)
    # The shipped file pads and truncates to 128; a count must see the whole text.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def tokenizer_path():
    """The tokenizer.json of the configured local model (the packaged one by default)."""
    model_dir = memory_settings.EMBEDDINGS_MODEL_DIR
    if memory_settings.EMBEDDINGS_PROVIDER.strip().lower() == "local" and model_dir:
        path = Path(model_dir) / "tokenizer.json"
        if path.is_file():
            return path
    return packaged_tokenizer_path()


def embedding_tokenizer():
    return _tokenizer(str(tokenizer_path()))


def count_tokens(text):
    """The number of the model's word pieces in text, without the special tokens."""
    return len(embedding_tokenizer().encode(text, add_special_tokens=False).ids)


def count_each(texts):
    """count_tokens for many texts in one call (the tokenizer batches in Rust)."""
    texts = list(texts)
    if not texts:
        return []
    return [len(e.ids) for e in embedding_tokenizer().encode_batch(texts, add_special_tokens=False)]
