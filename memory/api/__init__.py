"""The synchronous JSON API of the memory domain (plain Django views, no framework)."""
