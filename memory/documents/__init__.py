"""Documents: upload -> pages (with OCR) -> chunks -> embeddings -> search, validation of uncertain chunks, upkeep."""
