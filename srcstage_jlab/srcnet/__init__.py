"""Async clients of the SRCNet services: one module per service, no Jupyter imports."""
