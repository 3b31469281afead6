"""`make run`'s demo documents go through the real jobs, with a health check and a backup."""

import pytest

from memory.documents.demo import load_demo_documents
from memory.documents.models import Backup, Document, DocumentStatus, HealthCheck

from .factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_documents_are_processed_and_upkeep_runs_once(work, settings, tmp_path):
    settings.MEMORY_DOCUMENTS_BACKUP_DIR = tmp_path
    workspace = make_workspace("demo")
    assert len(load_demo_documents(workspace)) == 5
    work()
    documents = {d.original_name: d for d in Document.objects.all()}
    assert {d.status for d in documents.values()} == {DocumentStatus.COMPLETED}, {
        n: d.error_message for n, d in documents.items()}
    assert {d.detected_type for d in documents.values()} == {"html", "markdown", "pdf", "docx", "png"}
    assert documents["backup-policy.pdf"].page_count == 2
    assert "Globex" in documents["scanned-memo.png"].pages.get().text
    assert HealthCheck.objects.count() == 1 and Backup.objects.get().status == Backup.Status.SUCCEEDED
    assert load_demo_documents(workspace) == []  # a second run stores nothing new
