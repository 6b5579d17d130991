"""A non-editable install (a wheel) ships the reference workspace (init works from it) and the built
web dashboard (the engine serves it from the installed package, no node toolchain needed)."""

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_ships_reference_workspace(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, REPO],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("mevops-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("config/global.yml", "chains/ethereum.yml", "environments/production/overrides.yml",
                "mev/config/risk-limits.yml", "mev/strategies/testing/arbitrage/cross-chain-usdc-arbitrage.yml"):
        assert f"mevops/_reference/{rel}" in names, rel
    static = REPO / "mevops" / "web" / "static"
    built = {"mevops/web/static/" + p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file()}
    assert "mevops/web/static/index.html" in built and built <= names, sorted(built - names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    served = subprocess.run([sys.executable, "-c", "from mevops.web import STATIC; print(STATIC); assert (STATIC / 'index.html').is_file()"],
                            capture_output=True, text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert served.returncode == 0 and served.stdout.startswith(str(site)), served.stderr
    ws = tmp_path / "ws"
    code = ("import sys, mevops.reference as r; assert '_reference' in str(r.reference_root()), r.reference_root();"
            "from mevops.cli import main; main(sys.argv[1:])")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code, "init", str(ws)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    check = subprocess.run([sys.executable, "-c", code, "-w", str(ws), "config", "validate", "--all-envs"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
