"""Observability: every metric (metrics.py) and the logging setup (logging.py)."""
