"""Render the workspace model into the standardized tree under the target root."""
