"""The document jobs: thin (ids in, one service call, progress out), each on its own queue.

Queues: `documents` (extraction, chunking), `ai` (embeddings), `validation`, `search` (reindex)
and `maintenance` (upkeep, health, backups). A document flows process_document ->
chunk_document -> embed_chunks + create_validation_tasks.
"""

from django.tasks import task

from jobs import LOW_PRIORITY, JobCancelled, RetryPolicy

from ..providers.embeddings import EmbeddingError
from memory.core.tenancy import Workspace
from . import backups, embedding, enrichment, maintenance, processing, validation
from .models import Document, DocumentStatus

__all__ = [
    "backup_database", "chunk_document", "clean_orphans", "create_validation_tasks", "embed_chunks",
    "enrich_document", "expire_search_cache", "retrain_classifier", "maintain_vector_indexes", "process_document", "reindex_document", "run_health_check",
]

# A 500-page scan at ~1-2 s of OCR per page; the hard limit leaves time to record the soft one.
PROCESS_SOFT_LIMIT = 3600
PROCESS_HARD_LIMIT = 3900


def _document(document_id):
    return Document.objects.filter(pk=document_id).select_related("workspace").first()


def _progress(context, document, unit):
    def report(done, total):
        try:
            context.report_progress(done, total, f"{done} of {total} {unit}")
        except JobCancelled:
            document.cancel()  # the run was cancelled: the document says so too
            raise
    return report


@task(queue_name="documents", retry=RetryPolicy.none(), takes_context=True, kind="documents",
      soft_time_limit=PROCESS_SOFT_LIMIT, hard_time_limit=PROCESS_HARD_LIMIT, unique_key="documents:process:{0}")
def process_document(context, document_id):
    """Detect, extract and store a document's pages, then chain its chunking."""
    document = _document(document_id)
    if document is None:
        return {"skipped": "missing"}
    result = processing.process_document(document, on_page=_progress(context, document, "pages"))
    if result["status"] == DocumentStatus.PROCESSING:
        chunk_document.enqueue(document_id)
    return result


@task(queue_name="documents", retry=RetryPolicy.fixed(2, 30), takes_context=True, kind="documents",
      soft_time_limit=600, hard_time_limit=660, unique_key="documents:chunk:{0}")
def chunk_document(context, document_id):
    """Cut a document's pages into chunks, then chain their embedding and validation tasks."""
    document = _document(document_id)
    if document is None:
        return {"skipped": "missing"}
    result = processing.chunk_document(document, on_chunk=_progress(context, document, "chunks"))
    if result["status"] == DocumentStatus.COMPLETED:
        if result["chunks"]:
            embed_chunks.enqueue(result["chunks"], document_id=document_id)  # then enrichment, on the vectors
        create_validation_tasks.enqueue(document_id)
    return {"status": result["status"], "chunks": len(result["chunks"])}


@task(queue_name="ai", retry=RetryPolicy.linear(3, 60, cap=60), takes_context=True, kind="documents",
      soft_time_limit=900, hard_time_limit=960)
def embed_chunks(context, chunk_ids, document_id=None):
    """Embed chunks in batches; return {success, failed, skipped}; then enrich their document if given."""
    counts = embedding.embed_chunks(
        chunk_ids, on_batch=lambda done, total: context.report_progress(done, total, f"{done} of {total} embedded"))
    if counts["failed"]:
        raise EmbeddingError(f"{counts['failed']} chunks failed to embed")  # retried; done ones are skipped
    if document_id is not None:
        enrich_document.enqueue(document_id)
    return counts


@task(queue_name="ai", retry=RetryPolicy.fixed(2, 60), kind="documents", unique_key="documents:enrich:{0}",
      soft_time_limit=600, hard_time_limit=660)
def enrich_document(document_id):
    """Classify the document and find its entities (into the graph), sentiment and quality."""
    document = _document(document_id)
    if document is None or document.status != DocumentStatus.COMPLETED:
        return {"skipped": "missing or not completed"}
    result = enrichment.enrich_document(document)
    return {"entities": len(result["entities"]), "sentiment": result["sentiment"], "quality": result["quality"],
            "label": result.get("label")}


@task(queue_name="ai", retry=RetryPolicy.none(), kind="documents", unique_key="documents:retrain:{0}")
def retrain_classifier(workspace_id):
    """Fit a new version of the workspace's document classifier from its labelled documents."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    classifier = enrichment.retrain_classifier(workspace) if workspace else None
    if classifier is None:
        return {"skipped": "fewer than two labels with embedded documents"}
    return {"version": classifier.version, "metrics": classifier.metrics}


@task(queue_name="validation", retry=RetryPolicy.fixed(2, 30), kind="documents",
      unique_key="documents:validation:{0}")
def create_validation_tasks(document_id):
    """Open a validation task for each uncertain chunk of the document."""
    document = _document(document_id)
    if document is None:
        return {"skipped": "missing"}
    return {"created": validation.create_validation_tasks(document)}


@task(queue_name="search", retry=RetryPolicy.fixed(2, 30), kind="documents", unique_key="documents:reindex:{0}")
def reindex_document(document_id):
    """Re-chunk a completed document from its stored pages and re-embed what changed."""
    document = _document(document_id)
    if document is None or not document.mark_processing():
        return {"skipped": "missing or busy"}
    chunk_document.enqueue(document_id)
    return {"reindexing": document_id}


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="maintenance",
      unique_key=True, soft_time_limit=3600, hard_time_limit=3900)
def maintain_vector_indexes():
    """Rebuild vector indexes whose bloat passed the threshold (REINDEX CONCURRENTLY)."""
    return maintenance.maintain_vector_indexes()


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="maintenance", unique_key=True)
def clean_orphans():
    """Delete stored files without a document, and what failed documents left behind."""
    return maintenance.clean_orphans()


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.none(), kind="maintenance", unique_key=True)
def expire_search_cache():
    """Drop cached searches made before their workspace's documents changed."""
    return maintenance.expire_search_cache()


@task(queue_name="maintenance", retry=RetryPolicy.none(), kind="maintenance", unique_key=True)
def run_health_check():
    """Probe storage, database, Redis and workers; store the result row."""
    check = maintenance.run_health_check()
    return {"ok": check.ok, "id": check.pk}


@task(queue_name="maintenance", priority=LOW_PRIORITY, retry=RetryPolicy.fixed(2, 600), kind="maintenance",
      unique_key=True, soft_time_limit=7200, hard_time_limit=7500)
def backup_database():
    """pg_dump (custom format) and the stored files, then rotation by count and age."""
    backup = backups.create_backup()
    if backup.status != backup.Status.SUCCEEDED:
        raise backups.BackupError(backup.error)
    return {"id": backup.pk, "size": backup.size, "took_s": backup.took_s}
