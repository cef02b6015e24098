"""Fixtures of the welcome-number area (the demo number `welcome`, `admin`, `ids` are in
tests/conftest.py)."""
