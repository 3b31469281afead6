"""Text, structure and metadata out of each supported type, one page at a time.

Every reader returns an `Extraction`: metadata, a page count, and a generator of pages, so the
pipeline can report progress and notice a cancel between pages. A page is a list of blocks
(paragraphs and headings) with the confidence of the route that read them: digital text is
near-certain, OCR carries tesseract's word confidences.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Iterator

from django.conf import settings

from ..providers.ocr import ocr_image
from .detection import UnsupportedDocument, decode_text
from .models import DocumentType

DIGITAL_CONFIDENCE = 0.99
HTML_CONFIDENCE = 0.95  # main-content extraction may keep a stray line of page furniture
OCR_SCALE = 300 / 72  # render PDF pages at 300 dpi for OCR
MIN_TEXT_LAYER_CHARS = 20  # a page with less digital text than this is treated as scanned


class ExtractionError(ValueError):
    """The file cannot be read: encrypted, corrupt, a zip bomb, too large."""


@dataclass
class Block:
    text: str
    confidence: float
    heading: bool = False

    def as_json(self):
        return {"text": self.text, "confidence": self.confidence, "heading": self.heading}


@dataclass
class Page:
    number: int
    route: str  # "digital" or "ocr"
    blocks: list

    @property
    def text(self):
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def confidence(self):
        words = [(len(b.text.split()), b.confidence) for b in self.blocks]
        total = sum(n for n, _ in words)
        return round(sum(n * c for n, c in words) / total, 4) if total else 1.0


@dataclass
class Extraction:
    page_count: int
    pages: Iterator[Page]
    metadata: dict = field(default_factory=dict)


def extract(doc_type, data):
    """Open `data` as `doc_type`; raise ExtractionError or UnsupportedDocument with a clear reason."""
    readers = {
        DocumentType.TEXT: read_text, DocumentType.MARKDOWN: read_markdown, DocumentType.HTML: read_html,
        DocumentType.PDF: read_pdf, DocumentType.DOCX: read_docx, DocumentType.PNG: read_image,
        DocumentType.JPEG: read_image, DocumentType.TIFF: read_image,
    }
    if doc_type not in readers:
        raise UnsupportedDocument(f"no reader for type {doc_type!r}")
    return readers[doc_type](data)


def paragraphs(text, confidence, markdown=False):
    blocks = []
    for part in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        part = part.strip()
        if part:
            blocks.append(Block(part, confidence, heading=markdown and bool(re.match(r"#{1,6} ", part))))
    return blocks


def _one_page(blocks, metadata=None):
    return Extraction(page_count=1, pages=iter([Page(1, "digital", blocks)]), metadata=metadata or {})


def read_text(data):
    text = decode_text(data)
    if text is None:
        raise UnsupportedDocument("the text is not in a readable encoding")
    return _one_page(paragraphs(text, DIGITAL_CONFIDENCE))


def read_markdown(data):
    text = decode_text(data) or ""
    blocks = []
    for block in paragraphs(text, DIGITAL_CONFIDENCE, markdown=True):
        # "# Title\nbody" in one paragraph: the heading line becomes its own block.
        first, _, rest = block.text.partition("\n")
        if block.heading and rest.strip():
            blocks += [Block(first, block.confidence, heading=True), Block(rest.strip(), block.confidence)]
        else:
            blocks.append(block)
    title = next((b.text.lstrip("# ").strip() for b in blocks if b.heading), "")
    return _one_page(blocks, {"title": title} if title else {})


NOISE_TAGS = "script, style, noscript, nav, header, footer, aside, form, iframe, svg, button, template"
BLOCK_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd",
              "figcaption", "caption"}


def read_html(data):
    """The main content: navigation, headers, footers and scripts dropped; <main>/<article> preferred."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_text(data) or data.decode("utf-8", errors="replace"))
    metadata = {}
    if (title := tree.css_first("title")) is not None and title.text(strip=True):
        metadata["title"] = title.text(strip=True)
    for name in ("author", "description", "date"):
        node = tree.css_first(f'meta[name="{name}"]')
        if node is not None and node.attributes.get("content"):
            metadata["created" if name == "date" else name] = node.attributes["content"]
    for node in tree.css(NOISE_TAGS):
        node.decompose()
    for node in tree.css('[role="navigation"], [aria-hidden="true"], .nav, .navbar, .menu, .sidebar, .cookie, .ad'):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    blocks = []
    for node in root.traverse():
        if node.tag not in BLOCK_TAGS:
            continue
        # Skip a block nested in another block (an <li> holding a <p>): its parent reads it.
        parent, nested = node.parent, False
        while parent is not None and parent is not root:
            if parent.tag in BLOCK_TAGS:
                nested = True
                break
            parent = parent.parent
        text = " ".join(node.text(separator=" ").split())
        if nested or not text:
            continue
        heading = node.tag[0] == "h" and node.tag[1:].isdigit()
        blocks.append(Block(("#" * int(node.tag[1]) + " " + text) if heading else text, HTML_CONFIDENCE, heading))
    if not blocks and root is not None:
        blocks = paragraphs(root.text(separator="\n"), HTML_CONFIDENCE)
    if "title" not in metadata and (h1 := next((b for b in blocks if b.text.startswith("# ")), None)):
        metadata["title"] = h1.text[2:]
    return _one_page(blocks, metadata)


def read_pdf(data):
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise ExtractionError("the PDF is encrypted (password protected)") from None
        raise ExtractionError(f"the PDF is corrupt or unreadable ({message})") from None
    raw = pdf.get_metadata_dict(skip_empty=True)
    metadata = {key.lower(): value for key, value in raw.items()
                if key in ("Title", "Author", "Subject", "Keywords", "CreationDate")}
    if "creationdate" in metadata:
        metadata["created"] = metadata.pop("creationdate")
    count = len(pdf)
    if count == 0:
        pdf.close()
        raise ExtractionError("the PDF has no pages")

    def pages():
        try:
            for index in range(count):
                page = pdf[index]
                textpage = page.get_textpage()
                text = textpage.get_text_bounded()
                textpage.close()
                if len(text.strip()) >= MIN_TEXT_LAYER_CHARS:
                    yield Page(index + 1, "digital", paragraphs(text, DIGITAL_CONFIDENCE) or
                               [Block(text.strip(), DIGITAL_CONFIDENCE)])
                else:
                    image = page.render(scale=OCR_SCALE).to_pil()
                    yield _ocr_page(index + 1, image)
                page.close()
        finally:
            pdf.close()

    return Extraction(page_count=count, pages=pages(), metadata=metadata)


def _ocr_page(number, image):
    result = ocr_image(image)
    return Page(number, "ocr", [Block(b.text, b.confidence) for b in result.blocks])


def read_image(data):
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ExtractionError(f"the image is corrupt or unreadable ({exc})") from None
    count = getattr(image, "n_frames", 1)

    def pages():
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            yield _ocr_page(number, frame.copy())

    return Extraction(page_count=count, pages=pages(), metadata={"width": image.width, "height": image.height})


def check_zip_bomb(data):
    """Refuse archives that would inflate past the limit or at an implausible ratio."""
    limit = settings.MEMORY_DOCUMENTS_MAX_UNCOMPRESSED_BYTES
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"the DOCX is corrupt ({exc})") from None
    total = sum(info.file_size for info in infos)
    if total > limit:
        raise ExtractionError(f"zip bomb: the DOCX would inflate to {total // (1024 * 1024)} MB, "
                              f"over the {limit // (1024 * 1024)} MB limit")
    for info in infos:
        # Real DOCX parts compress 5-20x; 1000x is a crafted archive.
        if info.file_size > 10 * 1024 * 1024 and info.file_size > 1000 * max(info.compress_size, 1):
            raise ExtractionError(f"zip bomb: {info.filename} inflates {info.file_size // max(info.compress_size, 1)}x")


def read_docx(data):
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip_bomb(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors... on a broken package
        raise ExtractionError(f"the DOCX is corrupt ({type(exc).__name__}: {exc})") from None
    core = document.core_properties
    metadata = {key: value for key, value in (("title", core.title), ("author", core.author),
                                               ("created", core.created.isoformat() if core.created else ""))
                if value}
    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            if style.startswith("Heading") or style == "Title":
                level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
                blocks.append(Block("#" * level + " " + text, DIGITAL_CONFIDENCE, heading=True))
            else:
                blocks.append(Block(text, DIGITAL_CONFIDENCE))
        elif isinstance(item, Table):
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            if rows:
                blocks.append(Block("\n".join(rows), DIGITAL_CONFIDENCE))
    if "title" not in metadata and (h := next((b for b in blocks if b.heading), None)):
        metadata["title"] = h.text.lstrip("# ")
    return _one_page(blocks, metadata)
