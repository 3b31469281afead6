"""The documents' admin: changelists render, actions act through the domain API."""

import pytest
from django.urls import reverse

from memory.documents import search
from memory.documents.models import (
    Chunk, Document, DocumentStatus, HealthCheck, ValidationEvent, ValidationStatus, ValidationTask,
)
from memory.documents.validation import create_validation_tasks
from tests.users import make_operator

from .factories import make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(client):
    user = make_operator()
    client.force_login(user)
    return user


@pytest.mark.parametrize("model", ["document", "documentpage", "chunk", "validationtask", "validationevent",
                                   "documentclassifier", "searchquerylog", "healthcheck", "backup"])
def test_every_changelist_renders(client, operator, model):
    assert client.get(reverse(f"admin:memory_{model}_changelist")).status_code == 200


def test_search_analytics_sit_above_the_query_log(client, operator):
    make_workspace()
    search.search(operator, "nothing matches this")
    page = client.get(reverse("admin:memory_searchquerylog_changelist")).content.decode()
    assert "Zero-result queries" in page and "nothing matches this" in page


def test_the_health_row_shows_what_failed(client, operator):
    HealthCheck.objects.create(ok=False, results={"redis": {"ok": False, "detail": "ConnectionError: refused"}})
    page = client.get(reverse("admin:memory_healthcheck_changelist")).content.decode()
    assert "failing" in page and "ConnectionError: refused" in page


def test_reprocess_reopens_finished_documents_and_enqueues_them(client, operator, work):
    document = upload(make_workspace(), b"A short note about the deploy pipeline and its tests.", "note.txt")
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error_message="old")
    client.post(reverse("admin:memory_document_changelist"), {"action": "reprocess", "_selected_action": [document.pk]})
    work()
    document.refresh_from_db()
    assert document.status == DocumentStatus.COMPLETED and document.error_message == ""


def test_batch_approve_from_the_admin_is_audited(client, operator):
    document = Document.objects.create(workspace=make_workspace(), original_name="s", sha256="9" * 64,
                                       status=DocumentStatus.COMPLETED)
    for ordinal in range(2):
        Chunk.objects.create(document=document, ordinal=ordinal, text="t", confidence=0.1)
    create_validation_tasks(document)
    ids = list(ValidationTask.objects.values_list("pk", flat=True))
    client.post(reverse("admin:memory_validationtask_changelist"), {"action": "approve_selected", "_selected_action": ids})
    assert set(ValidationTask.objects.values_list("status", flat=True)) == {ValidationStatus.APPROVED}
    assert ValidationEvent.objects.filter(actor=operator).count() == 2
