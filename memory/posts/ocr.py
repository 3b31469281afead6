"""ocr_post_image: read the text of the images attached to a post into its `ocr` enrichment.

The engine is the documents' one (memory.providers.ocr: Debian's tesseract). Without it the row says
{"status": "unavailable", "reason": ...} and the post goes on to be indexed with its text alone.
Each image's outcome is kept: {"ok": true, "text", "confidence", "words"} or {"ok": false, "reason"}.
"""

import io
import time
import warnings

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from PIL import Image

from memory.providers.ocr import OcrError, ocr_image, tesseract_path

from . import events, metrics
from .images import ImageRefused, image_bytes
from .models import Post, PostEnrichment

# A small PNG can declare a huge canvas; decoding it would take the worker's memory (a "pixel bomb").
MAX_IMAGE_PIXELS = 40_000_000
# What is stored per image: the index and the preview read the start, like a crawled page.
MAX_IMAGE_TEXT_CHARS = 20_000


def describe(image):
    """Where an image comes from, for the row and the page: its URL or its Telegram file's unique id."""
    if isinstance(image.get("telegram"), dict):
        sizes = image["telegram"].get("sizes") or [{}]
        return {"source": "telegram", "kind": image["telegram"].get("kind", "photo"),
                "file_unique_id": sizes[-1].get("file_unique_id", "")}
    return {"source": "url", "url": image.get("url", "")}


def read_image(data):
    """OCR an image's bytes; return (text, confidence, words) or raise ImageRefused/OcrError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(f"{image.width}x{image.height} pixels is over {MAX_IMAGE_PIXELS:,}")
                image.load()
                result = ocr_image(image)
        except (OSError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageRefused(f"unreadable image: {type(exc).__name__}") from None
    return result.text[:MAX_IMAGE_TEXT_CHARS], round(result.confidence, 4), result.words


def ocr_entry(post, image):
    """One image's outcome as stored in the row."""
    entry = describe(image)
    try:
        text, confidence, words = read_image(image_bytes(post, image))
    except ImageRefused as exc:
        return {**entry, "ok": False, "reason": str(exc)[:300]}
    except OcrError as exc:
        return {**entry, "ok": False, "reason": f"ocr: {str(exc)[:300]}"}
    return {**entry, "ok": True, "text": text, "confidence": confidence, "words": words}


def engine_missing():
    """Why OCR cannot run here (tesseract not installed), or None when it can."""
    try:
        tesseract_path()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def ocr_post_image(post_id):
    """Fetch and OCR every image of the post into its `ocr` row; return the counts, None if the post is gone."""
    started = time.perf_counter()
    post = Post.objects.filter(pk=post_id).defer("embedding").first()
    if post is None:
        metrics.OCR_PROCESSED.labels(status="missing").inc()
        return None
    missing = engine_missing()
    if missing:
        data = {"status": "unavailable", "reason": missing, "images": [describe(image) for image in post.images]}
        counts = {"images": len(post.images), "read": 0, "refused": 0, "unavailable": True}
    else:
        entries = [ocr_entry(post, image) for image in post.images]
        data = {"status": "done", "images": entries}
        counts = {"images": len(entries), "read": sum(e["ok"] for e in entries),
                  "refused": sum(not e["ok"] for e in entries)}
    PostEnrichment.objects.update_or_create(post=post, kind=PostEnrichment.Kind.OCR,
                                            defaults={"data": data, "updated_at": timezone.now()})
    post.record_event("posts.ocr", **counts)
    events.publish_post(post, "posts.ocr", **counts)
    metrics.OCR_PROCESSED.labels(status=data["status"]).inc()
    metrics.OCR_LATENCY.observe(time.perf_counter() - started)
    return counts


def ocr_text(post):
    """The text read from the post's images (those read), one block per image, for the index."""
    row = PostEnrichment.objects.filter(post=post, kind=PostEnrichment.Kind.OCR).first()
    if row is None:
        return ""
    return "\n\n".join(entry["text"] for entry in row.data.get("images", []) if entry.get("ok") and entry.get("text"))
