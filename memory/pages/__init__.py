"""The member-facing memory pages: the list with its filters and search, notes, and the entity graph."""
