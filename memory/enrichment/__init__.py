"""Topics and embeddings of new and changed memories."""
