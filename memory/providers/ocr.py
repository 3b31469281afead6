"""OCR: Debian's tesseract (installed by `make`), run as a subprocess; word confidences from its TSV.

Why tesseract and not an ONNX package: it is one apt package with its English model, runs offline,
is fast on CPU for printed text, and reports a confidence per word (TSV output), which is what the
validation queue needs. It is run as a subprocess (image on stdin, TSV on stdout): no Python
binding to keep in step with the engine, and a stuck page is bounded by a timeout.
"""

import io
import shutil
import subprocess
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_TIMEOUT_SECONDS = 120


class OcrError(RuntimeError):
    """Tesseract failed on an image."""


@dataclass
class OcrBlock:
    text: str
    confidence: float  # 0..1, mean of the block's word confidences


@dataclass
class OcrResult:
    blocks: list = field(default_factory=list)
    words: int = 0

    @property
    def text(self):
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def confidence(self):
        """Word-weighted mean confidence of the page (0 when nothing was read)."""
        total = sum(len(b.text.split()) for b in self.blocks)
        return sum(b.confidence * len(b.text.split()) for b in self.blocks) / total if total else 0.0


def tesseract_path():
    path = shutil.which("tesseract")
    if path is None:
        raise ImproperlyConfigured("tesseract is not installed: `make run` / `make test` install Debian's "
                                   "tesseract-ocr and tesseract-ocr-eng")
    return path


def parse_tsv(tsv):
    """Paragraph blocks from tesseract's TSV: words joined by line, lines by paragraph, mean word confidence."""
    paragraphs = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        word, conf = cols[11].strip(), float(cols[10])
        if not word or conf < 0:
            continue
        key = (int(cols[2]), int(cols[3]))  # block, paragraph
        line = int(cols[4])
        paragraphs.setdefault(key, {}).setdefault(line, []).append((word, conf))
    blocks, words = [], 0
    for key in sorted(paragraphs):
        lines = paragraphs[key]
        confs = [conf for line in lines.values() for _, conf in line]
        text = "\n".join(" ".join(w for w, _ in lines[n]) for n in sorted(lines))
        blocks.append(OcrBlock(text=text, confidence=round(sum(confs) / len(confs) / 100.0, 4)))
        words += len(confs)
    return OcrResult(blocks=blocks, words=words)


def ocr_image(image, languages=None, timeout=DEFAULT_TIMEOUT_SECONDS):
    """Read a PIL image; return its paragraph blocks with confidences."""
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PNG")
    languages = languages or settings.MEMORY_DOCUMENTS_OCR_LANGUAGES
    try:
        proc = subprocess.run([tesseract_path(), "stdin", "stdout", "-l", languages, "--psm", "3", "tsv"],
                              input=buffer.getvalue(), capture_output=True, timeout=timeout,
                              # One thread per tesseract: the workers already use every core.
                              env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        raise OcrError(f"tesseract took longer than {timeout}s on one page") from None
    if proc.returncode != 0:
        raise OcrError(f"tesseract failed: {proc.stderr.decode(errors='replace').strip()[:300]}")
    return parse_tsv(proc.stdout.decode("utf-8", errors="replace"))
