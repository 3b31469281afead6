"""The knowledge graph: entities, relations, extraction, entity resolution, communities."""
