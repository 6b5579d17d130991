"""Alembic migrations of the engine store (a package, so that a wheel ships them)."""
