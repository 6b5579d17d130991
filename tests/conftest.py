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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    """The anvil binary (scripts/install-test-tools puts the catalog's pinned release in .tools/bin)."""
    for candidate in (REPO / ".tools/bin/anvil", shutil.which("anvil")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.skip("anvil is not installed (scripts/install-test-tools installs it)")


@pytest.fixture
def start_anvil(anvil_binary):
    """Start throwaway anvils on free ports: ``start_anvil(chain_id=...) -> (url, process)``."""
    import subprocess
    import time
    import urllib.request

    procs = []

    def _start(chain_id: int = 31337, block_time: float | None = None, port: int | None = None):
        port = port or _free_port()
        argv = [str(anvil_binary), "--port", str(port), "--chain-id", str(chain_id), "--silent"]
        if block_time:
            argv += ["--block-time", str(block_time)]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(url, data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
                                             headers={"content-type": "application/json"})
                urllib.request.urlopen(req, timeout=0.5).read()
                return url, proc
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"anvil did not start on port {port}")

    yield _start
    for proc in procs:
        proc.kill()
        proc.wait()
