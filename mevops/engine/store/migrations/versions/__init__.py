"""Alembic revision scripts (alembic ignores this file)."""
