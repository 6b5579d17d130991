"""``mevops.yml``: the workspace marker (kept apart from the big models so start-up stays light)."""

from __future__ import annotations

from typing import Literal

from mevops.config.types import Name, Strict


class WorkspaceMarker(Strict):
    """Marks a workspace and says where its standardized tree lives."""

    schema_version: Literal[1] = 1
    name: Name = "mevops"
    default_environment: Name = "development"
    target_root: str = "/data/blockchain"
