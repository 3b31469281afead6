"""The document jobs end to end on a real RQ worker: upload -> pages -> chunks -> embeddings -> validation."""

import io

import pytest

from jobs.models import JobRun
from memory.documents import processing
from memory.documents.models import Chunk, Document, DocumentStatus, ValidationTask
from memory.documents.tasks import chunk_document, embed_chunks, process_document

from . import samples
from .factories import make_validator, make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workspace():
    return make_workspace()


def run(document, work):
    process_document.enqueue(document.pk)
    work()
    document.refresh_from_db()
    return document


def test_a_digital_pdf_goes_from_upload_to_embedded_chunks(workspace, work):
    document = upload(workspace, samples.text_pdf(["The backups of the billing database run nightly and are kept for a week.",
                                                        "Restores are tested monthly in the staging environment."]),
                      "report.dat")
    run(document, work)
    assert document.status == DocumentStatus.COMPLETED, document.error_message
    assert document.detected_type == "pdf" and document.page_count == 2 and document.language == "en"
    assert document.metadata["title"] == "Quarterly report" and document.processed_at is not None
    chunks = list(document.chunks.all())
    assert chunks and all(c.embedding is not None and c.confidence > 0.95 for c in chunks)
    assert (document.progress_done, document.progress_total) == (2, 2)
    assert set(JobRun.objects.values_list("queue", flat=True)) >= {"documents", "ai", "validation"}


@pytest.mark.parametrize("make, name, reason", [
    (samples.corrupt_pdf, "broken.pdf", "corrupt"),
    (samples.encrypted_pdf, "secret.pdf", "encrypted"),
    (lambda: b"", "empty.txt", "empty"),
    (samples.renamed_binary, "report.pdf", "binary content of an unsupported type"),
])
def test_hostile_files_fail_with_a_clear_reason(workspace, work, make, name, reason):
    document = run(upload(workspace, make(), name), work)
    assert document.status == DocumentStatus.FAILED
    assert reason in document.error_message
    assert not document.chunks.exists()


def test_a_docx_zip_bomb_fails(workspace, work, settings):
    settings.MEMORY_DOCUMENTS_MAX_UNCOMPRESSED_BYTES = 16 * 1024 * 1024
    document = run(upload(workspace, samples.docx_zip_bomb(32 * 1024 * 1024), "bomb.docx"), work)
    assert document.status == DocumentStatus.FAILED and "zip bomb" in document.error_message


def test_a_file_over_the_size_limit_fails_without_being_stored(workspace, settings):
    settings.MEMORY_DOCUMENTS_MAX_BYTES = 1000
    document = upload(workspace, b"x" * 2000, "big.txt")
    assert document.status == DocumentStatus.FAILED and "over the 1000 bytes limit" in document.error_message
    assert not document.file


def test_a_duplicate_is_linked_not_processed_again(workspace, work):
    data = samples.docx_file()
    first = run(upload(workspace, data, "runbook.docx"), work)
    again, created = processing.store_upload(workspace, io.BytesIO(data), "copy of runbook.docx")
    assert not created and again.pk == first.pk
    assert Document.objects.count() == 1


def test_a_scanned_pdf_is_ocred_and_its_uncertain_chunks_go_to_validators(workspace, work, settings):
    alice, bob = make_validator(workspace, "alice"), make_validator(workspace, "bob")
    settings.MEMORY_DOCUMENTS_VALIDATION_THRESHOLD = 1.0  # every OCR chunk counts as uncertain here
    texts = ["First scanned page about backups.", "Second scanned page about restores.", "Third page."]
    document = upload(workspace, samples.scanned_pdf(texts), "scan.pdf", priority=5)
    run(document, work)
    assert document.status == DocumentStatus.COMPLETED
    assert set(document.pages.values_list("route", flat=True)) == {"ocr"}
    chunks = list(document.chunks.all())
    assert all(0 < c.confidence < 1 for c in chunks)
    tasks = list(ValidationTask.objects.order_by("chunk__ordinal"))
    assert len(tasks) == len(chunks) and {t.priority for t in tasks} == {5}
    if len(tasks) > 1:
        assert tasks[0].assignee != tasks[1].assignee  # round-robin
    assert {t.assignee for t in tasks} <= {alice, bob}


def test_reprocessing_replaces_chunks_in_place_and_keeps_unchanged_embeddings(workspace, work):
    document = run(upload(workspace, samples.MARKDOWN.encode(), "deploy.md"), work)
    before = {c.ordinal: (c.pk, c.embedded_hash) for c in document.chunks.all()}
    assert document.mark_processing()
    chunk_document.enqueue(document.pk)
    work()
    after = {c.ordinal: (c.pk, c.embedded_hash) for c in Chunk.objects.filter(document=document)}
    assert after == before
    assert JobRun.objects.filter(task_path__endswith="embed_chunks").order_by("-enqueued_at").first().result == {
        "success": 0, "failed": 0, "skipped": len(before)}


def test_embed_chunks_skips_unchanged_text(workspace, work):
    document = run(upload(workspace, samples.MARKDOWN.encode(), "deploy.md"), work)
    ids = list(document.chunks.values_list("pk", flat=True))
    chunk = Chunk.objects.get(pk=ids[0])
    chunk.text = "Changed text entirely."
    chunk.save()
    result = embed_chunks.enqueue(ids)
    work()
    assert embed_chunks.get_result(result.id).return_value == {"success": 1, "failed": 0, "skipped": len(ids) - 1}


def test_a_cancelled_document_stops_at_the_next_page(workspace):
    document = upload(workspace, samples.text_pdf(["one", "two", "three", "four"]), "long.pdf")
    seen = []

    def on_page(done, total):
        seen.append(done)
        if done == 2:
            Document.objects.get(pk=document.pk).cancel()

    result = processing.process_document(document, on_page=on_page)
    document.refresh_from_db()
    assert result == {"status": DocumentStatus.CANCELLED, "pages": 2} and seen == [1, 2]
    assert document.status == DocumentStatus.CANCELLED and document.pages.count() == 2
    assert processing.chunk_document(document)["status"] == DocumentStatus.CANCELLED
    assert not document.chunks.exists()


def test_a_cancel_before_the_worker_starts_wins_and_reopen_allows_processing_again(workspace, work):
    document = upload(workspace, samples.MARKDOWN.encode(), "deploy.md")
    process_document.enqueue(document.pk)
    assert document.cancel()
    work()
    document.refresh_from_db()
    assert document.status == DocumentStatus.CANCELLED and not document.pages.exists()
    assert document.reopen()
    process_document.enqueue(document.pk)
    work()
    document.refresh_from_db()
    assert document.status == DocumentStatus.COMPLETED
