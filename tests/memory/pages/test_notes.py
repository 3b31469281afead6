"""Notes on the memory page: a writer writes, edits and deletes (after confirming); a viewer only reads."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from jobs.models import JobRun
from memory.models import Layer, Membership, Memory, Source
from memory.pages.forms import MAX_NOTE_CHARS
from tests.memory.factories import make_memory
from tests.users import make_outsider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def viewer(project):
    user = make_outsider("viewer")
    Membership.objects.create(workspace=project.workspace, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    return client


def test_a_member_writes_a_note_with_kind_project_and_tags_and_its_enrichment_is_enqueued(client, project):
    response = client.post(reverse("memory:new"), {"project": project.pk, "kind": "semantic",
                                                   "content": "  The NAS backs up at 02:00  ",
                                                   "tags": "backup, nas, Backup, "})
    memory = Memory.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("memory:detail", args=[memory.pk])
    assert (memory.project, memory.layer, memory.source) == (project, Layer.SEMANTIC, Source.NOTE)
    assert memory.content == "The NAS backs up at 02:00" and memory.metadata == {"tags": ["backup", "nas"]}
    assert JobRun.objects.filter(task_path__in=["memory.enrichment.tasks.extract_topics",
                                                "memory.enrichment.tasks.update_embeddings"]).count() == 2


def test_a_member_edits_a_note_and_keeps_its_other_metadata(client, project):
    memory = make_memory(project, "first text", metadata={"speaker": "Ann", "tags": ["old"]})
    page = client.get(reverse("memory:detail", args=[memory.pk]))
    assert page.status_code == 200 and 'value="old"' in page.content.decode()
    response = client.post(reverse("memory:detail", args=[memory.pk]),
                           {"content": "second text", "kind": "working", "tags": ""})
    assert response.status_code == 302
    memory.refresh_from_db()
    assert (memory.content, memory.layer, memory.metadata) == ("second text", Layer.WORKING, {"speaker": "Ann"})


def test_deleting_asks_first_and_then_returns_to_the_project_page(client, project):
    memory = make_memory(project, "to be deleted")
    confirm = client.get(reverse("memory:delete", args=[memory.pk]))
    assert confirm.status_code == 200 and "Delete this memory?" in confirm.content.decode()
    assert Memory.objects.filter(pk=memory.pk).exists()
    response = client.post(reverse("memory:delete", args=[memory.pk]))
    assert response.status_code == 302 and response["Location"] == f"{reverse('memory:page')}?project={project.pk}"
    assert not Memory.objects.filter(pk=memory.pk).exists()


def test_a_viewer_reads_but_may_not_write_edit_or_delete(viewer, project):
    memory = make_memory(project, "read only")
    page = viewer.get(reverse("memory:detail", args=[memory.pk]))
    assert page.status_code == 200 and page.context["form"] is None and "Delete" not in page.content.decode()
    assert "note_form" not in viewer.get(reverse("memory:page")).context
    assert viewer.get(reverse("memory:new")).status_code == 403
    assert viewer.post(reverse("memory:new"), {"project": project.pk, "kind": "episodic",
                                               "content": "x"}).status_code == 403
    assert viewer.post(reverse("memory:detail", args=[memory.pk]), {"content": "changed",
                                                                    "kind": "episodic"}).status_code == 403
    assert viewer.get(reverse("memory:delete", args=[memory.pk])).status_code == 403
    assert viewer.post(reverse("memory:delete", args=[memory.pk])).status_code == 403
    memory.refresh_from_db()
    assert memory.content == "read only"


def test_another_workspace_s_memory_is_not_found(client, project, foreign):
    memory = make_memory(foreign, "secret")
    for name in ("memory:detail", "memory:delete"):
        assert client.get(reverse(name, args=[memory.pk])).status_code == 404
        assert client.post(reverse(name, args=[memory.pk]), {"content": "x", "kind": "episodic"}).status_code == 404
    response = client.post(reverse("memory:new"), {"project": foreign.pk, "kind": "episodic", "content": "x"})
    assert response.status_code == 200 and "project" in response.context["form"].errors
    assert Memory.objects.count() == 1


def test_bad_notes_are_refused_with_the_error_next_to_the_field(client, project):
    cases = {
        "content": {"content": "x" * (MAX_NOTE_CHARS + 1), "kind": "episodic"},
        "kind": {"content": "fine", "kind": "gossip"},
        "tags": {"content": "fine", "kind": "episodic", "tags": "a, " + "t" * 51},
    }
    for field, data in cases.items():
        response = client.post(reverse("memory:new"), {"project": project.pk, **data})
        assert response.status_code == 200, field
        assert list(response.context["form"].errors) == [field]
        html = response.content.decode()
        start = html.index(f'id="field-{field}"')
        assert start < html.index('class="error field-error"', start) < html.index("</div>", start)
    blank = client.post(reverse("memory:new"), {"project": project.pk, "kind": "episodic", "content": "   "})
    assert "This field is required." in blank.content.decode()
    nul = {"project": project.pk, "kind": "episodic", "content": "a\x00b"}
    multipart = client.post(reverse("memory:new"), nul)  # the middleware leaves multipart bodies to views
    assert multipart.status_code == 200
    assert multipart.context["form"].errors == {"content": ["Null characters are not allowed."]}
    urlencoded = client.post(reverse("memory:new"), urlencode(nul), content_type="application/x-www-form-urlencoded")
    assert urlencoded.status_code == 400 and b"NUL" in urlencoded.content  # refused before any view
    assert not Memory.objects.exists()
