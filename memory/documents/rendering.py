"""Page images of PDFs and scans for the detail page (the original beside its extracted text)."""

import io

PREVIEW_WIDTH = 900


def page_png(doc_type, data, number):
    """PNG bytes of 1-based page `number`; IndexError when there is no such page."""
    from PIL import Image, ImageSequence

    if doc_type == "pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        try:
            if not 1 <= number <= len(pdf):
                raise IndexError(number)
            page = pdf[number - 1]
            image = page.render(scale=PREVIEW_WIDTH / page.get_width()).to_pil()
        finally:
            pdf.close()
    else:
        frames = list(ImageSequence.Iterator(Image.open(io.BytesIO(data))))
        if not 1 <= number <= len(frames):
            raise IndexError(number)
        image = frames[number - 1].copy()
        image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
