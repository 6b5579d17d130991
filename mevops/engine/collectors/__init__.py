"""Collectors: streams of typed events from the chain, with reconnect and backfill."""
