"""Strategies: I/O-free state machines (sync_state, then process_event → actions)."""
