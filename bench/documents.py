"""The document pipeline end to end: 200 mixed documents (~20 MB, some scanned) on 2 real workers.

    .venv/bin/python bench/documents.py [--documents 200] [--workers 2] [--scanned-share 0.15]

Documents are generated here: digital PDFs (several pages), scanned PDFs (pages that are only
images of text, read by tesseract), DOCX with headings and a table, HTML with navigation noise,
Markdown, plain text, and PNG/JPEG scans. They are stored and enqueued in one transaction, then
two `manage.py rqworker` subprocesses (as `make run` starts them) process them to the end:
extraction -> chunks -> embeddings -> validation tasks.

Rates are for the workers together: the items of a stage divided by the worker-seconds the
stage's runs took (from the ledger's started/finished times), times the number of workers.
digital/ocr pages/s split process_document's time by each document's page route. total_s is the
wall time from the enqueue to the last run finishing.
"""

import argparse
import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from cluster import ROOT, start_cluster

WORDS = ("backup restore database billing search cluster deploy pipeline image container storage "
         "object alert disk space latency cache eviction customer contract renewal budget review "
         "quarter revenue hiring onboarding engineer office migration incident report owner team").split()
PEOPLE = ["Alice Chen", "Bob Martin", "Carol Diaz", "Dave Kim", "Erin Wu"]


def sentence(rng, n=14):
    words = [rng.choice(WORDS) for _ in range(n)]
    return f"{rng.choice(PEOPLE)} noted that the " + " ".join(words) + "."


def paragraph(rng, sentences=5):
    return " ".join(sentence(rng) for _ in range(sentences))


def page_image(text, rng):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=30)
    image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    draw = ImageDraw.Draw(image)
    y = 120
    for line in textwrap.wrap(text, 85):
        draw.text((120, y), line, fill=0, font=font)
        y += 46
    # Scanner grain, so the image compresses like a real scan rather than a flat render.
    noise = Image.effect_noise(image.size, 12).point(lambda v: 255 if v > 140 else 0)
    return Image.composite(image, Image.new("L", image.size, 235), noise.point(lambda v: 255 - v // 8))


def make_documents(count, scanned_share, rng):
    sys.path.insert(0, str(ROOT))
    from memory.documents.demo import minimal_pdf
    from tests.memory.documents import samples

    kinds = ["scan_pdf"] * round(count * scanned_share) + ["scan_png"] * round(count * 0.05)
    rest = ["pdf", "pdf", "docx", "html", "markdown", "text"]
    kinds += [rest[i % len(rest)] for i in range(count - len(kinds))]
    rng.shuffle(kinds)
    files = []
    for number, kind in enumerate(kinds):
        if kind == "pdf":
            data = minimal_pdf([paragraph(rng, 8) for _ in range(rng.randint(3, 10))], f"Report {number}")
        elif kind == "scan_pdf":
            images = [page_image(paragraph(rng, 8), rng).convert("RGB") for _ in range(rng.randint(1, 3))]
            buffer = io.BytesIO()
            images[0].save(buffer, format="PDF", resolution=200, save_all=True, append_images=images[1:], quality=85)
            data = buffer.getvalue()
        elif kind == "scan_png":
            buffer = io.BytesIO()
            page_image(paragraph(rng, 6), rng).save(buffer, format="PNG")
            data = buffer.getvalue()
        elif kind == "docx":
            data = samples.docx_file(title=f"Runbook {number}", sections=[
                (f"Section {i}", paragraph(rng, 6)) for i in range(rng.randint(3, 8))])
        elif kind == "html":
            body = "".join(f"<h2>Part {i}</h2><p>{paragraph(rng)}</p>" for i in range(rng.randint(3, 8)))
            data = samples.NAV_HTML.replace("<main>", f"<main>{body}").encode()
        elif kind == "markdown":
            data = "\n\n".join(f"## Topic {i}\n\n{paragraph(rng)}\n\n- {sentence(rng)}\n- `{rng.choice(WORDS)}`"
                               for i in range(rng.randint(3, 10))).encode()
        else:
            data = "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 12))).encode()
        files.append((f"{kind}-{number}", kind, data))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scanned-share", type=float, default=0.15)
    parser.add_argument("--timeout", type=float, default=3000)
    options = parser.parse_args()
    rng = random.Random(14)

    services = start_cluster("d")[0]
    procs = []
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import close_old_connections, transaction

        call_command("migrate", verbosity=0)
        from jobs import RunStatus
        from jobs.models import JobRun
        from jobs.queues import worker_queue_names
        from memory.documents.models import Chunk, Document, DocumentPage, DocumentStatus
        from memory.documents.processing import store_upload
        from memory.documents.tasks import process_document
        from memory.models import Workspace

        files = make_documents(options.documents, options.scanned_share, rng)
        size = sum(len(data) for _, _, data in files)
        workspace = Workspace.objects.create(name="Bench", slug="bench")
        env = dict(os.environ)
        for number in range(options.workers):
            procs.append(subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", *worker_queue_names()], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        time.sleep(3)  # the workers import Django and the model before the clock starts
        started = time.perf_counter()
        with transaction.atomic():
            for name, _, data in files:
                document, _ = store_upload(workspace, io.BytesIO(data), name)
                process_document.enqueue(document.pk)
        deadline = time.monotonic() + options.timeout
        while True:
            close_old_connections()
            busy = JobRun.objects.exclude(status__in=RunStatus.terminal()).exists()
            active = Document.objects.active().exists()
            if not busy and not active:
                break
            if time.monotonic() > deadline:
                raise SystemExit("the documents were not processed in time")
            time.sleep(0.25)
        total_s = time.perf_counter() - started

        failed = JobRun.objects.exclude(status=RunStatus.SUCCEEDED).count()
        not_completed = list(Document.objects.exclude(status=DocumentStatus.COMPLETED)
                             .values_list("original_name", "error_message"))

        def worker_seconds(task, **filters):
            runs = JobRun.objects.filter(task_path=f"memory.documents.tasks.{task}", **filters)
            return sum(((r.finished_at - r.started_at).total_seconds() for r in runs.only("started_at", "finished_at")),
                       0.0)

        ocr_docs = set(DocumentPage.objects.filter(route="ocr").values_list("document_id", flat=True))
        digital_pages = DocumentPage.objects.filter(route="digital").count()
        ocr_pages = DocumentPage.objects.filter(route="ocr").count()
        runs = {str(r.args[0]): r for r in JobRun.objects.filter(task_path="memory.documents.tasks.process_document")}
        ocr_s = sum((r.finished_at - r.started_at).total_seconds() for key, r in runs.items() if int(key) in ocr_docs)
        digital_s = sum((r.finished_at - r.started_at).total_seconds() for key, r in runs.items()
                        if int(key) not in ocr_docs)
        chunks = Chunk.objects.count()
        embedded = Chunk.objects.filter(embedding__isnull=False).count()
        chunk_s = worker_seconds("chunk_document")
        embed_s = worker_seconds("embed_chunks")
        pages = digital_pages + ocr_pages
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        services.destroy()

    w = options.workers
    print(f"{len(files)} documents, {size / 1e6:.1f} MB, {pages} pages ({digital_pages} digital, {ocr_pages} OCR), "
          f"{chunks} chunks ({embedded} embedded), {w} workers; {failed} runs not succeeded, "
          f"{len(not_completed)} documents not completed {list(not_completed)[:3]}")
    print(f"embeddings_per_s={embedded / max(embed_s, 1e-9) * w:.1f}")
    print(f"documents: docs={len(files)} pages={pages} digital_pages_per_s={digital_pages / max(digital_s, 1e-9) * w:.1f} "
          f"ocr_pages_per_s={ocr_pages / max(ocr_s, 1e-9) * w:.2f} chunks_per_s={chunks / max(chunk_s, 1e-9) * w:.1f} "
          f"total_s={total_s:.1f}")


if __name__ == "__main__":
    main()
