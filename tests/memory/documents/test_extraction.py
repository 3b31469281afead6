"""Type detection from content, extraction per type, OCR accuracy, and chunking rules."""

import re

import pytest

from memory.documents import extraction
from memory.documents.chunking import MAX_TOKENS, chunk_pages, count_tokens
from memory.documents.detection import UnsupportedDocument, detect_type
from memory.documents.extraction import ExtractionError, extract
from memory.documents.models import DocumentType

from . import samples


def words(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def word_accuracy(expected, got):
    """Share of the expected words read right, in order (longest common subsequence)."""
    a, b = words(expected), words(got)
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1] / len(a)


def read_all(doc_type, data):
    result = extract(doc_type, data)
    return result, list(result.pages)


@pytest.mark.parametrize("make, expected", [
    (lambda: samples.text_pdf(["hello world, a digital page"]), DocumentType.PDF),
    (samples.scanned_pdf, DocumentType.PDF),
    (samples.docx_file, DocumentType.DOCX),
    (lambda: samples.NAV_HTML.encode(), DocumentType.HTML),
    (lambda: samples.MARKDOWN.encode(), DocumentType.MARKDOWN),
    (lambda: b"Just a plain note about the deploy.\nSecond line.", DocumentType.TEXT),
    (samples.png_of_text, DocumentType.PNG),
    (samples.jpeg_of_text, DocumentType.JPEG),
])
def test_it_detects_the_type_from_the_content(make, expected):
    data = make()
    assert detect_type(data[:65536], zip_opener=lambda: __import__("io").BytesIO(data)) == expected


def test_it_refuses_empty_and_binary_content_with_a_reason():
    with pytest.raises(UnsupportedDocument, match="empty"):
        detect_type(b"")
    with pytest.raises(UnsupportedDocument, match="binary content of an unsupported type"):
        detect_type(samples.renamed_binary())


def test_a_digital_pdf_gives_one_page_each_with_metadata_and_high_confidence():
    result, pages = read_all(DocumentType.PDF, samples.text_pdf(["First page about backups.", "Second page on restores."]))
    assert result.page_count == 2 and [p.number for p in pages] == [1, 2]
    assert "backups" in pages[0].text and "restores" in pages[1].text
    assert {p.route for p in pages} == {"digital"} and all(p.confidence > 0.95 for p in pages)
    assert result.metadata["title"] == "Quarterly report" and result.metadata["author"] == "Alice Chen"


def test_an_encrypted_or_corrupt_pdf_fails_with_a_clear_reason():
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(DocumentType.PDF, samples.encrypted_pdf())
    with pytest.raises(ExtractionError, match="corrupt"):
        extract(DocumentType.PDF, samples.corrupt_pdf())


def test_a_docx_keeps_its_headings_and_table_in_order():
    result, [page] = read_all(DocumentType.DOCX, samples.docx_file())
    texts = [b.text for b in page.blocks]
    assert texts[:3] == ["# Runbook", "## Backups", "Backups run nightly at 01:30 and are kept for a week."]
    assert [b.heading for b in page.blocks[:3]] == [True, True, False]
    assert "billing | Alice" in texts[-1]
    assert result.metadata["author"] == "Bob Martin" and result.metadata["title"] == "Runbook"


def test_a_docx_zip_bomb_is_refused(settings):
    settings.MEMORY_DOCUMENTS_MAX_UNCOMPRESSED_BYTES = 16 * 1024 * 1024
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract(DocumentType.DOCX, samples.docx_zip_bomb(32 * 1024 * 1024))


def test_html_keeps_the_main_content_and_drops_navigation_noise():
    result, [page] = read_all(DocumentType.HTML, samples.NAV_HTML.encode())
    assert "ran out of disk space" in page.text and "Alert on free disk space." in page.text
    for noise in ("Pricing", "Sign in", "newsletter", "Related posts", "Copyright", "tracking"):
        assert noise not in page.text
    assert result.metadata == {"title": "Incident review", "author": "Carol Diaz"}


def test_markdown_headings_become_heading_blocks():
    result, [page] = read_all(DocumentType.MARKDOWN, samples.MARKDOWN.encode())
    assert [b.text for b in page.blocks if b.heading] == ["# Deploy guide", "## Rollback"]
    assert result.metadata["title"] == "Deploy guide"


def test_ocr_reads_a_rendered_sentence_with_at_least_95_percent_of_words_right():
    _, [page] = read_all(DocumentType.PNG, samples.png_of_text())
    assert page.route == "ocr"
    assert word_accuracy(samples.SENTENCE, page.text) >= 0.95, page.text
    assert 0.8 < page.confidence <= 1.0  # from tesseract's word confidences


def test_a_scanned_pdf_is_read_by_ocr_per_page():
    texts = [samples.SENTENCE, "Restores are tested every month against a scratch database."]
    result, pages = read_all(DocumentType.PDF, samples.scanned_pdf(texts))
    assert [p.route for p in pages] == ["ocr", "ocr"]
    for expected, page in zip(texts, pages):
        assert word_accuracy(expected, page.text) >= 0.95, page.text


def test_ocr_confidence_is_low_on_a_smudged_scan():
    from PIL import ImageFilter

    image = samples.text_image(samples.SENTENCE, size=16).filter(ImageFilter.GaussianBlur(1.6))
    blurred = extraction._ocr_page(1, image)
    clean = extraction._ocr_page(1, samples.text_image(samples.SENTENCE))
    assert blurred.confidence < clean.confidence


def blocks(*texts, heading=()):
    return [{"text": t, "confidence": 0.99, "heading": i in heading} for i, t in enumerate(texts)]


def test_chunks_are_at_most_256_tokens_and_overlap_when_a_window_fills():
    paragraph = " ".join(f"word{i}" for i in range(100))
    drafts = chunk_pages([(1, blocks(*[paragraph] * 6))])
    assert all(d.token_count <= MAX_TOKENS and count_tokens(d.text) <= MAX_TOKENS for d in drafts)
    assert len(drafts) >= 3
    # The tail of one window opens the next.
    assert drafts[1].text.split()[0] in drafts[0].text.split()[-40:]


def test_a_heading_starts_a_new_chunk_and_paragraphs_stay_whole():
    drafts = chunk_pages([(1, blocks("# Backups", "Nightly at 01:30.", "# Restores", "Monthly tests.",
                                     heading=(0, 2)))])
    assert [d.text for d in drafts] == ["# Backups\n\nNightly at 01:30.", "# Restores\n\nMonthly tests."]
    assert [d.heading for d in drafts] == ["Backups", "Restores"]


def test_a_long_paragraph_is_cut_on_word_boundaries_and_pages_are_tracked():
    long = " ".join(f"token{i}" for i in range(700))
    drafts = chunk_pages([(1, blocks(long)), (2, blocks("Page two text."))])
    assert all(d.token_count <= MAX_TOKENS for d in drafts)
    joined = " ".join(d.text for d in drafts)
    assert all(f"token{i}" in joined.split() for i in range(700))
    assert drafts[-1].page_end == 2 and drafts[0].page_start == 1
    assert [d.ordinal for d in drafts] == list(range(len(drafts)))


def test_chunk_confidence_is_the_token_weighted_mean_of_its_blocks():
    drafts = chunk_pages([(1, [{"text": "one two three", "confidence": 0.5}, {"text": "four", "confidence": 0.9}])])
    assert drafts[0].confidence == pytest.approx((0.5 * 3 + 0.9 * 1) / 4, abs=1e-3)


def test_tokens_are_the_embedding_models_word_pieces_and_a_chunk_fits_its_input():
    from memory.providers.embeddings import get_embedding_provider

    model = get_embedding_provider().tokenizer  # the tokenizer the embedder itself feeds the model with
    text = "Unbelievably, the reconfiguration of Kubernetes' autoscaler happened."
    pieces = model.encode(text).ids  # with [CLS] and [SEP], as the model sees it
    assert count_tokens(text) == len(pieces) - 2
    assert count_tokens(text) > len(text.split())  # a regex of words would say 7
    # Rare long words cost several pieces each: a window is cut by pieces, not by words.
    words = " ".join(["antidisestablishmentarianism", "pneumonoultramicroscopic", "floccinaucinihilipilification"] * 60)
    drafts = chunk_pages([(1, blocks(words))])
    assert len(drafts) > 1
    for draft in drafts:
        assert draft.token_count == count_tokens(draft.text) <= MAX_TOKENS
        encoded = model.encode(draft.text)  # the embedder truncates at 256: nothing of a chunk is cut off
        assert len(encoded.ids) <= 256 and encoded.ids[-1] == model.token_to_id("[SEP]")
        assert len(model.encode(draft.text).overflowing) == 0


def test_a_word_longer_than_a_window_is_cut_into_pieces_that_fit():
    # WordPiece reads a word of over 100 characters as one [UNK], so with the packaged model only a
    # small window can be shorter than a word: "x7Q" * 33 is 99 characters and 99 pieces.
    blob = "x7Q" * 33
    assert count_tokens(blob) > 40
    drafts = chunk_pages([(1, blocks(f"Checksum {blob} end."))], max_tokens=40, overlap=8)
    assert len(drafts) > 1 and all(count_tokens(d.text) <= 40 for d in drafts)
    parts = [word for d in drafts for word in d.text.split() if word not in ("Checksum", "end.")]
    assert all(part in blob for part in parts) and sum(map(len, parts)) >= len(blob)  # overlaps only add
