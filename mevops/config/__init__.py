"""Configuration: safe YAML with positions, units, models, layering and validation."""
