"""The web dashboard's built assets (``static/``, from ``web/`` by ``npm --prefix web run build``).

They ship inside the package, so a plain install serves the dashboard with no node toolchain.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"

