"""Rendered reference trees (all 8 chains, all networks) for each environment, and validators."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.postgres import postgres_cluster, postgres_url  # noqa: F401 (a real throwaway PostgreSQL, shared)

ENVIRONMENTS = ("development", "staging", "production")


def require_tool(name: str) -> str:
    """The tool's path, or skip the test with a reason (CI installs every tool, so it does not skip)."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/install-test-tools installs it)")
    return path


def run_tool(*argv: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """env → target root holding the full render of a fresh reference workspace."""
    from mevops.render.run import RenderRequest, render
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    base = tmp_path_factory.mktemp("rendered")
    ws_dir = base / "workspace"
    init_workspace(ws_dir, None, None, "development")
    ws = Workspace.open(ws_dir)
    roots = {}
    for env in ENVIRONMENTS:
        root = base / env
        outcome = render(ws, RenderRequest(root, env))
        assert not outcome.conflicts
        roots[env] = root
    return roots


def files(root: Path, pattern: str) -> list[Path]:
    found = sorted(root.glob(pattern))
    assert found, f"nothing matches {pattern} under {root}"
    return found
