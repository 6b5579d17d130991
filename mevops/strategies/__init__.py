"""Strategies: the file schema, the stage store (research/testing/active/archived), risk checks."""

STAGES: tuple[str, ...] = ("research", "testing", "active", "archived")
"""The stages a strategy file moves through (``mev/strategies/<stage>/``), in order."""
