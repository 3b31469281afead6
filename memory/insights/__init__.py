"""Reflections, decisions and their analysis, anomalies, the aggregation of episodes."""
