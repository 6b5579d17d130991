"""The dashboard's own toolchain, run from the test suite: its Vitest component tests, the
TypeScript check, and a rebuild that must equal the committed build byte for byte (the package ships
``mevops/web/static``: it may never drift from ``web/src``; tests/integration/test_packaging.py checks the wheel)."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
STATIC = REPO / "mevops" / "web" / "static"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (scripts/install-test-tools installs it)")
    if not (WEB / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("web/node_modules is missing (scripts/install-test-tools runs npm --prefix web ci)")
    return npm


def _run(argv: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={"CI": "true", **__import__("os").environ})
    assert result.returncode == 0, f"{' '.join(argv)} exited {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result


def test_vitest_component_tests_pass():
    result = _run([_npm(), "--prefix", "web", "test", "--", "--reporter=dot"])
    out = result.stdout + result.stderr
    assert "passed" in out and " failed" not in out.split("Test Files")[-1].split("\n")[0], out[-2000:]


def test_typescript_typechecks():
    _run([_npm(), "--prefix", "web", "run", "typecheck"])


def test_committed_build_equals_a_fresh_build(tmp_path):
    out = tmp_path / "static"
    _run([_npm(), "--prefix", "web", "run", "build", "--", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"])
    fresh = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    assert fresh == committed, "mevops/web/static is stale: run npm --prefix web run build and commit it"
    _, mismatch, errors = filecmp.cmpfiles(out, STATIC, fresh, shallow=False)
    assert not mismatch and not errors, f"stale built files {mismatch or errors}: run npm --prefix web run build and commit"
    assert "index.html" in fresh and any(f.startswith("assets/") and f.endswith(".js") for f in fresh)
