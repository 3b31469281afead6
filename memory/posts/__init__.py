"""Posts: channel posts through intake, tagging (tags are substrings of the text), persistence, enrichment,
indexing and expiry."""
