"""What a file really is, read from its first bytes (never from its name)."""

import io
import re
import zipfile

from .models import DocumentType

SNIFF_BYTES = 64 * 1024

HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
HTML_TAGS = re.compile(rb"<(p|div|h[1-6]|article|main|nav|table|ul|a)\b[^>]*>", re.IGNORECASE)
MARKDOWN_SIGNS = [
    re.compile(r"^#{1,6} \S", re.MULTILINE),            # ATX headings
    re.compile(r"^\s*[-*+] \S", re.MULTILINE),          # bullet lists
    re.compile(r"^\s*\d+\. \S", re.MULTILINE),          # numbered lists
    re.compile(r"^```", re.MULTILINE),                  # fenced code
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),             # links
    re.compile(r"(\*\*|__)[^*_\n]+\1"),                 # bold
    re.compile(r"`[^`\n]+`"),                          # inline code
    re.compile(r"^\S.*\n(=+|-+)\s*$", re.MULTILINE),    # setext headings
]


class UnsupportedDocument(ValueError):
    """The content is empty, binary of an unknown kind, or otherwise not something we read."""


def detect_type(head, zip_opener=None):
    """The DocumentType of a file whose first bytes are `head`; raise UnsupportedDocument for the rest.

    `zip_opener` returns the whole file for the one case where the first bytes are not enough: a
    ZIP is a DOCX only if it holds word/document.xml.
    """
    if not head:
        raise UnsupportedDocument("the file is empty (0 bytes)")
    if head.startswith(b"%PDF-"):
        return DocumentType.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return DocumentType.JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return DocumentType.TIFF
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(zip_opener() if zip_opener else io.BytesIO(head)).namelist())
        except zipfile.BadZipFile as exc:
            raise UnsupportedDocument(f"a damaged ZIP archive ({exc})") from None
        if "word/document.xml" in names:
            return DocumentType.DOCX
        raise UnsupportedDocument("a ZIP archive that is not a Word document (no word/document.xml)")
    text = decode_text(head, partial=True)
    if text is None:
        raise UnsupportedDocument("binary content of an unsupported type (not text, PDF, DOCX, PNG, JPEG or TIFF)")
    if HTML_START.match(head) or len(HTML_TAGS.findall(head)) >= 3:
        return DocumentType.HTML
    if sum(1 for sign in MARKDOWN_SIGNS if sign.search(text)) >= 2:
        return DocumentType.MARKDOWN
    return DocumentType.TEXT


def decode_text(data, partial=False):
    """The bytes as text (UTF-8, UTF-16 with a BOM, else Latin-1 when it looks like prose), or None if binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed head may end in the middle of a multi-byte character.
        if partial and exc.start >= len(data) - 3:
            return data[:exc.start].decode("utf-8")
    text = data.decode("latin-1")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return text if controls <= len(text) // 100 else None
