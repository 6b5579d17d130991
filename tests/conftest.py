"""Shared fixtures: run the CLI in-process, make fresh workspaces."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from mevops.cli import main

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys, monkeypatch):
    """Run ``mevops ARGS...`` in-process; returns exit code, stdout and stderr."""

    def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        for key in [k for k in os.environ if k.startswith("MEVOPS_")]:
            monkeypatch.delenv(key)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


@pytest.fixture(scope="session")
def _pristine_workspace(tmp_path_factory) -> Path:
    from mevops.workspace_init import init_workspace

    root = tmp_path_factory.mktemp("pristine") / "ws"
    init_workspace(root, None, None, "development")
    return root


@pytest.fixture
def workspace(_pristine_workspace, tmp_path) -> Path:
    """A fresh copy of a newly initialised reference workspace."""
    target = tmp_path / "ws"
    shutil.copytree(_pristine_workspace, target)
    return target


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under root, to prove nothing was written."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}
