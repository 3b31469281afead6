"""The document pages through Django's test client: upload, states, detail, originals, validation, search."""

import pytest
from django.test import Client
from django.urls import reverse

from memory.documents.models import Document, DocumentStatus, ValidationEvent, ValidationTask
from memory.documents import validation
from tests.users import make_outsider

from . import samples
from .factories import make_validator, make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client():
    """A browser of nobody yet (tests/memory/conftest.py's client signs its own member in)."""
    return Client()


@pytest.fixture
def member(client):
    workspace = make_workspace()
    user = make_validator(workspace, "alice")
    client.force_login(user)
    return workspace, user


def post_file(client, workspace, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("documents:upload"), {"workspace": workspace.pk, "file": SimpleUploadedFile(name, data)})


def test_an_upload_is_stored_processed_and_followed_live(client, member, work):
    workspace, _ = member
    response = post_file(client, workspace, "scan.png", samples.png_of_text())
    assert response.status_code == 201
    state = response.json()
    assert state["status"] == "uploaded" and not state["duplicate"]
    work()
    states = client.get(reverse("documents:states"), {"ids": str(state["id"])}).json()["documents"]
    assert states[0]["status"] == "completed" and states[0]["terminal"] and (states[0]["done"], states[0]["total"]) == (1, 1)
    again = post_file(client, workspace, "copy.png", samples.png_of_text())
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["id"] == state["id"]


def test_an_upload_names_its_project_of_the_same_workspace(client, member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.memory.factories import make_project

    workspace, _ = member
    project, foreign = make_project(workspace), make_project(make_workspace("other"))
    assert f'value="{project.pk}"' in client.get(reverse("documents:list")).content.decode()

    def post(project_field, name):
        return client.post(reverse("documents:upload"), {"workspace": workspace.pk, "project": project_field,
                                                         "file": SimpleUploadedFile(name, name.encode())})

    assert post(project.pk, "a.txt").status_code == 201
    assert Document.objects.get(original_name="a.txt").project == project
    for bad in (foreign.pk, "x", "99999"):
        response = post(bad, "b.txt")
        assert response.status_code == 400 and b"not one of the workspace" in response.content
    assert not Document.objects.filter(original_name="b.txt").exists()
    assert post("", "c.txt").status_code == 201 and Document.objects.get(original_name="c.txt").project is None


def test_outsiders_cannot_upload_to_or_see_a_workspace(client, member):
    workspace, _ = member
    document = upload(workspace, b"a private note", "note.txt")
    client.force_login(make_outsider())
    assert post_file(client, workspace, "x.txt", b"hello").status_code == 403
    assert client.get(reverse("documents:detail", args=[document.pk])).status_code == 404
    assert client.get(reverse("documents:original", args=[document.pk])).status_code == 404
    assert client.get(reverse("documents:states"), {"ids": str(document.pk)}).json() == {"documents": []}
    assert "note.txt" not in client.get(reverse("documents:list")).content.decode()


def test_the_detail_page_shows_pages_beside_their_original_and_coloured_chunks(client, member, work):
    workspace, _ = member
    document = upload(workspace, samples.scanned_pdf([samples.SENTENCE]), "scan.pdf")
    from memory.documents.tasks import process_document

    process_document.enqueue(document.pk)
    work()
    html = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert reverse("documents:page_image", args=[document.pk, 1]) in html
    assert "quarterly backup report" in html and 'class="chunk conf-' in html
    image = client.get(reverse("documents:page_image", args=[document.pk, 1]))
    assert image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    assert client.get(reverse("documents:page_image", args=[document.pk, 2])).status_code == 404
    original = client.get(reverse("documents:original", args=[document.pk]))
    assert original["Content-Type"] == "application/pdf" and original["X-Content-Type-Options"] == "nosniff"


def test_a_validator_decides_only_their_own_tasks(client, member):
    workspace, alice = member
    document = Document.objects.create(workspace=workspace, original_name="s.pdf", sha256="12" * 32,
                                       status=DocumentStatus.COMPLETED)
    from memory.documents.models import Chunk

    for ordinal in range(3):
        Chunk.objects.create(document=document, ordinal=ordinal, text=f"text {ordinal}", confidence=0.2)
    validation.create_validation_tasks(document)
    first, second, third = ValidationTask.objects.order_by("chunk__ordinal")
    page = client.get(reverse("documents:validation")).content.decode()
    assert page.count('class="task') == 3
    decide = reverse("documents:decide", args=[first.pk])
    assert client.post(decide, {"decision": "correct", "correction": "fixed text"}).json()["ok"]
    assert client.post(decide, {"decision": "approve"}).json() == {"ok": False, "task": first.pk, "status": "approved"}
    batch = client.post(reverse("documents:decide_batch"), {"decision": "approve", "task": [second.pk, third.pk]})
    assert batch.json() == {"ok": True, "decided": 2}
    assert ValidationEvent.objects.count() == 3
    client.force_login(make_outsider())
    assert client.post(decide, {"decision": "reject"}).status_code == 404


def test_the_search_page_shows_highlighted_snippets(client, member, work):
    workspace, _ = member
    document = upload(workspace, samples.NAV_HTML.encode(), "review.html")
    from memory.documents.tasks import process_document

    process_document.enqueue(document.pk)
    work()
    html = client.get(reverse("documents:search"), {"q": "disk space"}).content.decode()
    assert "<mark>disk</mark>" in html and reverse("documents:detail", args=[document.pk]) in html
