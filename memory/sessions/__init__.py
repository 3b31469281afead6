"""Sessions and their context cache."""
