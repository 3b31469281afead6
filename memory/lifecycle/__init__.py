"""Decay and expiry of memories, pruning of old episodes, clean-up of idle sessions."""
