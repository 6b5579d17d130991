"""mevops: one CLI for blockchain nodes and MEV operations."""

__version__ = "0.1.0"
