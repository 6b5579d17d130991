"""Strategies: the file schema, the stage store (research/testing/active/archived), risk checks."""
