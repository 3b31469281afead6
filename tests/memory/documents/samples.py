"""Real files made in the tests: digital and scanned PDFs, DOCX, HTML, images, and hostile ones."""

import io
import os
import textwrap
import zipfile

from PIL import Image, ImageDraw, ImageFont

SENTENCE = "The quarterly backup report shows that every database was restored within forty minutes."


def text_image(text, width=1700, size=44, margin=80):
    """Black text on white, as a 200 dpi scan of a printed page would show it."""
    font = ImageFont.load_default(size=size)  # Pillow's own scalable font: no system font needed
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, width=int((width - 2 * margin) / (size * 0.52))) or [""]
    height = margin * 2 + len(lines) * int(size * 1.5)
    image = Image.new("L", (width, max(height, 400)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((margin, margin + number * int(size * 1.5)), line, fill=0, font=font)
    return image


def png_of_text(text=SENTENCE):
    buffer = io.BytesIO()
    text_image(text).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_of_text(text=SENTENCE):
    buffer = io.BytesIO()
    text_image(text).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def scanned_pdf(pages=(SENTENCE,)):
    """A PDF whose pages are only images of text (no text layer), like a scanner makes."""
    images = [text_image(text).convert("RGB") for text in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=200, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def text_pdf(pages, title="Quarterly report", author="Alice Chen", encrypt=None):
    """A digital PDF (reportlab) with one page per entry; each entry's paragraphs on separate lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    for text in pages:
        y = 800
        for paragraph in text.split("\n\n"):
            for line in textwrap.wrap(paragraph, 90):
                pdf.drawString(50, y, line)
                y -= 14
            y -= 14
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def docx_file(title="Runbook", sections=None, table=None, author="Bob Martin"):
    import docx

    document = docx.Document()
    document.core_properties.author = author
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for heading, body in sections or [("Backups", "Backups run nightly at 01:30 and are kept for a week."),
                                      ("Restores", "A restore is tested every month against a scratch database.")]:
        document.add_heading(heading, level=2)
        document.add_paragraph(body)
    rows = table or [("Service", "Owner"), ("billing", "Alice"), ("search", "Carol")]
    grid = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


NAV_HTML = """<!DOCTYPE html><html><head><title>Incident review</title>
<meta name="author" content="Carol Diaz"><script>var tracking = "do not index me";</script></head>
<body><nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/login">Sign in to your account</a></nav>
<header><p>Acme Corp engineering blog newsletter signup</p></header>
<main><h1>Incident review</h1><p>The billing database ran out of disk space during the nightly backup.</p>
<h2>Actions</h2><ul><li>Move backups to object storage.</li><li>Alert on free disk space.</li></ul></main>
<aside><p>Related posts you may like</p></aside><footer><p>Copyright Acme Corp, all rights reserved</p></footer>
</body></html>"""

MARKDOWN = """# Deploy guide

The deploy pipeline builds a container image and ships it to staging first.

## Rollback

Run **make rollback** to return to the previous image. See [the runbook](https://example.com/runbook).

- check the dashboards
- tell the on-call engineer
"""


def corrupt_pdf():
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage garbage\n%%EOF\n" + os.urandom(200)


def encrypted_pdf():
    return text_pdf(["Secret salaries for the whole company."], encrypt="hunter2")


def docx_zip_bomb(inflated_bytes=64 * 1024 * 1024):
    """A DOCX-shaped ZIP whose document.xml inflates from a few KB to `inflated_bytes` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(inflated_bytes // len(block)):
                member.write(block)
    return buffer.getvalue()


def renamed_binary():
    """An ELF executable's bytes, to be uploaded as "report.pdf"."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8
