"""Monitoring of the served model: data drift between training data and scored traffic."""
