"""`memory import_documents PATH... [--wait]`: folders walked recursively, a progress line per file."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs.models import JobRun
from memory.documents.models import Document, DocumentStatus

from . import samples
from .factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "notes" / "deep").mkdir(parents=True)
    (tmp_path / "notes" / "deploy.md").write_text(samples.MARKDOWN)
    (tmp_path / "notes" / "deep" / "runbook.docx").write_bytes(samples.docx_file())
    (tmp_path / "notes" / "deep" / "review.html").write_text(samples.NAV_HTML)
    (tmp_path / "notes" / "report.pdf").write_bytes(samples.renamed_binary())
    (tmp_path / "notes" / ".hidden").write_text("skipped")
    (tmp_path / "scan.png").write_bytes(samples.png_of_text())
    return tmp_path


def test_wait_processes_a_folder_recursively_until_done(folder):
    make_workspace("team")
    out = StringIO()
    call_command("memory", "import_documents", str(folder / "notes"), str(folder / "scan.png"), "--wait", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[") and "1/5" in lines[0]
    assert "report.pdf: failed (binary content of an unsupported type" in out.getvalue()
    assert lines[-1] == "imported: 4 completed, 1 failed"
    documents = {d.original_name: d for d in Document.objects.all()}
    assert set(documents) == {"deploy.md", "runbook.docx", "review.html", "report.pdf", "scan.png"}
    assert documents["scan.png"].chunks.get().embedding is not None
    assert not JobRun.objects.filter(task_path__endswith="process_document").exists()
    out = StringIO()
    call_command("memory", "import_documents", str(folder / "notes" / "deploy.md"), "--wait", stdout=out)
    assert out.getvalue().splitlines()[-1] == "imported: 1 duplicate"


def test_without_wait_it_enqueues_for_the_workers(folder, work):
    make_workspace("team")
    make_workspace("other")
    with pytest.raises(CommandError, match="--workspace"):
        call_command("memory", "import_documents", str(folder / "scan.png"))
    call_command("memory", "import_documents", str(folder / "scan.png"), "--workspace", "team", stdout=StringIO())
    document = Document.objects.get()
    assert document.status == DocumentStatus.UPLOADED and document.workspace.slug == "team"
    work()
    document.refresh_from_db()
    assert document.status == DocumentStatus.COMPLETED and document.page_count == 1


def test_a_missing_path_is_an_error(tmp_path):
    make_workspace("team")
    with pytest.raises(CommandError, match="no such file"):
        call_command("memory", "import_documents", str(tmp_path / "nope"))
