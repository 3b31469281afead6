"""Hybrid full-text + vector search over the memories a user may see."""
