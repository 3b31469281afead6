"""`manage.py memory import_documents PATH... [--workspace SLUG] [--project SLUG] [--wait]`: folders walked recursively."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction

from memory.core.tenancy import Project, Workspace
from . import embedding, processing, validation
from .models import DocumentStatus
from .tasks import process_document

SKIP_NAMES = {".DS_Store", "Thumbs.db"}


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    parser.add_argument("--workspace", help="workspace slug (default: the only workspace)")
    parser.add_argument("--project", help="project slug in the workspace: the documents' entities join its graph "
                                          "(default: not linked)")
    parser.add_argument("--priority", type=int, default=0, help="priority of the documents' validation tasks")
    parser.add_argument("--wait", action="store_true",
                        help="process here, synchronously, until every document is done (no worker needed)")


def collect(paths):
    """Every regular file under the paths, sorted within each folder; missing paths raise CommandError."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name not in SKIP_NAMES
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return files


def pick_workspace(slug):
    if slug:
        try:
            return Workspace.objects.get(slug=slug)
        except Workspace.DoesNotExist:
            raise CommandError(f"no workspace with slug {slug!r}") from None
    workspaces = list(Workspace.objects.all()[:2])
    if len(workspaces) != 1:
        raise CommandError("say which workspace with --workspace SLUG")
    return workspaces[0]


def pick_project(workspace, slug):
    if not slug:
        return None
    try:
        return Project.objects.get(workspace=workspace, slug=slug)
    except Project.DoesNotExist:
        raise CommandError(f"no project with slug {slug!r} in workspace {workspace.slug!r}") from None


def process_now(document):
    """The whole pipeline in this process: pages, chunks, embeddings, validation tasks."""
    result = processing.process_document(document)
    if result["status"] != DocumentStatus.PROCESSING:
        return result
    chunks = processing.chunk_document(document)
    if chunks["status"] == DocumentStatus.COMPLETED:
        embedding.embed_chunks(chunks["chunks"])
        validation.create_validation_tasks(document)
    return {"status": chunks["status"], "chunks": len(chunks["chunks"]), "pages": result["pages"]}


def bar(done, total, width=30):
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def import_paths(workspace, paths, wait=False, priority=0, out=None, project=None):
    """Store (and with wait, process) every file; return {status: count} plus "duplicate"."""
    files = collect(paths)
    counts = {}
    for number, path in enumerate(files, start=1):
        with path.open("rb") as stream:
            document, created = processing.store_upload(workspace, stream, path.name, priority=priority,
                                                               project=project)
        if not created:
            status = "duplicate"
        elif document.status == DocumentStatus.FAILED:
            status = "failed"
        elif wait:
            status = process_now(document)["status"]
            document.refresh_from_db(fields=["error_message"])
        else:
            with transaction.atomic():
                process_document.enqueue(document.pk)
            status = "queued"
        counts[status] = counts.get(status, 0) + 1
        if out is not None:
            reason = f" ({document.error_message})" if status == "failed" else ""
            out.write(f"{bar(number, len(files))} {path.name[:60]}: {status}{reason}\n")
            out.flush()
    return counts


def handle(paths, workspace=None, project=None, wait=False, priority=0, stdout=None, **options):
    out = stdout or sys.stdout
    workspace = pick_workspace(workspace)
    counts = import_paths(workspace, paths, wait=wait, priority=priority, out=out,
                          project=pick_project(workspace, project))
    out.write("imported: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) + "\n")
    return counts
