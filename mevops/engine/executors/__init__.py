"""Executors: perform actions (send a signed transaction, or paper-trade)."""
