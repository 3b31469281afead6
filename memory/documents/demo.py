"""A few demo documents for `make run`, generated here (no binaries in the repository), fed through the jobs."""

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from .processing import store_upload
from .tasks import backup_database, process_document, run_health_check

INCIDENT_HTML = """<!DOCTYPE html><html><head><title>Billing backup incident review</title>
<meta name="author" content="Alice Chen"></head><body>
<nav><a href="/">Home</a> <a href="/blog">Blog</a> <a href="/careers">Careers</a></nav>
<main><h1>Billing backup incident review</h1>
<p>The nightly backup of the billing database failed three nights in a row because the disk was full.</p>
<h2>What we change</h2><ul><li>Backups move to object storage before the end of the month.</li>
<li>Bob adds an alert on free disk space for the database hosts.</li></ul></main>
<footer><p>Acme Corp internal wiki</p></footer></body></html>"""

DEPLOY_MD = """# Deploy guide

The deploy pipeline builds a container image, runs the tests and ships it to staging first.
Images larger than two gigabytes fail the pipeline.

## Rollback

Run `make rollback` to return to the previous image, then tell the on-call engineer.
"""

POLICY_PAGES = [
    "Backup policy. The billing database is dumped every night at 01:30 UTC in PostgreSQL's custom "
    "format. Seven dumps are kept, none older than thirty days.",
    "Restores are tested every month against a scratch database. The stored documents are archived "
    "together with the dump so that a restore brings both back.",
]

SCANNED_MEMO = ("Memo from Dave Kim, Berlin office. The office move is planned for March. "
                "Globex asked for single sign-on before renewing their contract.")


def minimal_pdf(pages, title):
    """A small digital PDF (Helvetica text, one string per line) written by hand: no PDF library needed."""
    def escape(text):
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None,
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", f"<< /Title ({escape(title)}) >>"]
    kids = []
    for text in pages:
        lines = textwrap.wrap(text, 80)
        stream = "BT /F1 11 Tf 14 TL 50 790 Td " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {len(objects)} 0 R >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def scanned_png(text):
    font = ImageFont.load_default(size=40)
    lines = textwrap.wrap(text, 60)
    image = Image.new("L", (1500, 120 + 60 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((60, 60 + 60 * number), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def runbook_docx():
    import docx

    document = docx.Document()
    document.core_properties.title = "Database runbook"
    document.core_properties.author = "Bob Martin"
    document.add_heading("Database runbook", level=1)
    document.add_heading("Disk space", level=2)
    document.add_paragraph("When free disk space on a database host drops below 15 percent, page the on-call engineer.")
    document.add_heading("Owners", level=2)
    table = document.add_table(rows=3, cols=2)
    for r, (service, owner) in enumerate([("Service", "Owner"), ("billing", "Alice Chen"), ("search", "Carol Diaz")]):
        table.cell(r, 0).text, table.cell(r, 1).text = service, owner
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def demo_files():
    return [
        ("incident-review.html", INCIDENT_HTML.encode()),
        ("deploy-guide.md", DEPLOY_MD.encode()),
        ("backup-policy.pdf", minimal_pdf(POLICY_PAGES, "Backup policy")),
        ("database-runbook.docx", runbook_docx()),
        ("scanned-memo.png", scanned_png(SCANNED_MEMO)),
    ]


def load_demo_documents(workspace, owner=None, project=None):
    """Store the demo documents and enqueue their processing, a health check and a backup (after commit)."""
    documents = []
    present = set(workspace.documents.values_list("original_name", flat=True))
    for name, data in demo_files():
        if name in present:  # a DOCX's bytes carry its save time: the hash alone would not match
            continue
        document, created = store_upload(workspace, io.BytesIO(data), name, uploaded_by=owner, project=project)
        if created:
            process_document.enqueue(document.pk)
            documents.append(document)
    run_health_check.enqueue()
    backup_database.enqueue()
    return documents
