"""Posts: channel posts tagged, persisted, enriched from their links, indexed and expired."""
