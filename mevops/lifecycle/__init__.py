"""Node lifecycles: install, up, down, status, logs, health, backup, on pluggable backends."""
