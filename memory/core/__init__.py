"""Workspaces, projects and membership, memories, API tokens, and the memory API."""
