"""The document pipeline's services: store an upload, extract its pages, cut them into chunks."""

import hashlib
import io
import logging
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction

from ..providers.ocr import OcrError
from .chunking import chunk_pages
from .detection import SNIFF_BYTES, UnsupportedDocument, detect_type
from .extraction import ExtractionError, extract
from .language import detect_language
from .models import Chunk, Document, DocumentPage, DocumentStatus
from .search_cache import invalidate_workspace

logger = logging.getLogger("memory.documents")
READ_BLOCK = 1024 * 1024


def max_bytes():
    return settings.MEMORY_DOCUMENTS_MAX_BYTES


def human_size(size):
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def store_upload(workspace, stream, name, uploaded_by=None, priority=0, project=None):
    """Store a file once per workspace; return (document, created).

    The same content uploaded again (same sha256 in the workspace) is linked to the existing
    document and not processed again. A file over MEMORY_DOCUMENTS_MAX_BYTES is recorded as
    failed with the reason, without keeping its bytes. `project` (of the same workspace) is where
    the document's entities join the graph.
    """
    if project is not None and project.workspace_id != workspace.pk:
        raise ValueError("the project belongs to another workspace")
    digest, size, limit = hashlib.sha256(), 0, max_bytes()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        while block := stream.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
            if size <= limit:
                spool.write(block)
        sha256 = digest.hexdigest()
        existing = Document.objects.filter(workspace=workspace, sha256=sha256).first()
        if existing is not None:
            return existing, False
        document = Document(workspace=workspace, project=project, uploaded_by=uploaded_by, original_name=name[:300],
                            size=size, sha256=sha256, priority=priority)
        if size > limit:
            document.status = DocumentStatus.FAILED
            document.error_message = f"the file is {human_size(size)}, over the {human_size(limit)} limit"
        else:
            spool.seek(0)
            document.file.save(name, File(spool), save=False)
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError:
            # The same file uploaded twice at once: the other request stored it first.
            document.file.delete(save=False)
            return Document.objects.get(workspace=workspace, sha256=sha256), False
    return document, True


class Cancelled(Exception):
    """The document was cancelled while it was being processed."""


def process_document(document, on_page=None):
    """Detect the type, extract metadata and pages (progress per page); return a summary.

    Fails the document with a clear reason on an oversized, empty, encrypted, corrupt or unknown
    file. A cancel is noticed at the next page boundary.
    """
    if not document.mark_processing():
        return {"status": document.status, "skipped": "not processable"}
    texts = []
    try:
        if document.size > max_bytes():
            raise ExtractionError(f"the file is {human_size(document.size)}, over the {human_size(max_bytes())} limit")
        if not document.file:
            raise UnsupportedDocument("the stored file is missing")
        with document.file.open("rb") as handle:
            data = handle.read()
        doc_type = detect_type(data[:SNIFF_BYTES], zip_opener=lambda: io.BytesIO(data))
        Document.objects.filter(pk=document.pk).update(detected_type=doc_type)
        document.detected_type = doc_type
        extraction = extract(doc_type, data)
        total = extraction.page_count
        document.report_progress(0, total, f"0 of {total} pages")
        for page in extraction.pages:
            DocumentPage.objects.update_or_create(
                document=document, number=page.number,
                defaults={"route": page.route, "text": page.text, "confidence": page.confidence,
                          "blocks": [b.as_json() for b in page.blocks]})
            texts.append(page.text)
            if on_page is not None:
                on_page(page.number, total)
            # The guarded progress write is also the cancel check, before the next page is read.
            if not document.report_progress(page.number, total, f"{page.number} of {total} pages ({page.route})"):
                raise Cancelled()
        DocumentPage.objects.filter(document=document, number__gt=total).delete()
        text = "\n\n".join(texts)
        Document.objects.filter(pk=document.pk).update(page_count=total, metadata=extraction.metadata,
                                                       language=detect_language(text))
    except Cancelled:
        return {"status": DocumentStatus.CANCELLED, "pages": len(texts)}
    except (UnsupportedDocument, ExtractionError, OcrError) as exc:
        document.mark_failed(exc)
        return {"status": DocumentStatus.FAILED, "error": str(exc)}
    return {"status": DocumentStatus.PROCESSING, "pages": total, "type": doc_type}


def chunk_document(document, on_chunk=None):
    """Replace the document's chunks from its pages (stable ordinals) and complete it; return chunk ids.

    A chunk whose text is unchanged keeps its row and embedding; changed ordinals are updated in
    place (re-embedded later because the text hash moved); ordinals past the new end are deleted.
    """
    document.refresh_from_db(fields=["status"])
    if document.status != DocumentStatus.PROCESSING:
        return {"status": document.status, "chunks": []}
    pages = [(p.number, p.blocks) for p in document.pages.order_by("number")]
    drafts = chunk_pages(pages)
    existing = {c.ordinal: c for c in document.chunks.all()}
    ids = []
    for draft in drafts:
        if document.is_cancelled():
            return {"status": DocumentStatus.CANCELLED, "chunks": ids}
        chunk = existing.get(draft.ordinal) or Chunk(document=document, ordinal=draft.ordinal)
        chunk.text, chunk.page_start, chunk.page_end = draft.text, draft.page_start, draft.page_end
        chunk.token_count, chunk.confidence, chunk.heading = draft.token_count, draft.confidence, draft.heading
        chunk.excluded = False
        chunk.save()
        ids.append(chunk.pk)
        if on_chunk is not None:
            on_chunk(len(ids), len(drafts))
    document.chunks.filter(ordinal__gte=len(drafts)).delete()
    if not document.mark_completed():
        return {"status": DocumentStatus.CANCELLED, "chunks": ids}
    invalidate_workspace(document.workspace_id)
    return {"status": DocumentStatus.COMPLETED, "chunks": ids}
