"""Render speed: a full render of the reference workspace (8 chains x 3 networks, one
environment) from a cold CLI process, and a no-change re-render.

Targets: full render <= 1.0 s wall, no-change re-render <= 0.5 s wall.
Baseline measured in the same run: `mevops --version` (a cold CLI that does no work), so the
ratios show what rendering adds to start-up. Run: `python benchmarks/bench_render.py`.

Every render is a new CLI process into an empty root. A render caches the validated workspace
per user (``mevops.render.inputs``, under $XDG_CACHE_HOME, here a temporary one), so the full
render is measured twice: with that input cache emptied first (what a first render after any
workspace change costs: validation, pydantic imported) and with it warm (the same workspace
rendered again, into another root: no validation). Jinja's compiled-template cache and the
page cache are warm in both (one warm-up render first).

Python's bytecode cache is warm too, as for any installed CLI (pip compiles it at install; Python
writes it on first import): the CLI runs with PYTHONPYCACHEPREFIX set to a temporary directory
that the warm-up render fills. If PYTHONDONTWRITEBYTECODE is set where the benchmark runs (then
every run compiles mevops' modules from source), the figures are measured that way as well and
printed second.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
FULL_TARGET_S = 1.0
NOCHANGE_TARGET_S = 0.5


def mevops_cmd() -> list[str]:
    script = Path(sys.executable).with_name("mevops")
    return [str(script)] if script.exists() else [shutil.which("mevops") or "mevops"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def verdict(seconds: float, target: float) -> str:
    return f"target <= {target * 1000:.0f} ms: {'met' if seconds <= target else 'MISSED'}"


def measure(cli: list[str], tmp_path: Path, env: dict[str, str]) -> dict[str, list[float]]:
    ws = tmp_path / "ws"
    cache = Path(env["XDG_CACHE_HOME"])
    subprocess.run([*cli, "init", str(ws)], check=True, stdout=subprocess.DEVNULL, env=env)
    timed([*cli, "render", "--root", str(tmp_path / "warm")], ws, env)  # warm caches (.pyc, page cache, Jinja)
    runs: dict[str, list[float]] = {"baseline": [timed([*cli, "--version"], ws, env) for _ in range(RUNS)],
                                    "cold": [], "warm": [], "nochange": []}
    for i in range(RUNS):
        shutil.rmtree(cache / "mevops" / "inputs", ignore_errors=True)
        runs["cold"].append(timed([*cli, "render", "--root", str(tmp_path / f"cold{i}")], ws, env))
        root = tmp_path / f"root{i}"
        runs["warm"].append(timed([*cli, "render", "--root", str(root)], ws, env))
        runs["nochange"].append(timed([*cli, "render", "--root", str(root)], ws, env))
    rendered = sorted(p.relative_to(tmp_path / "root0") for p in (tmp_path / "root0").rglob("*")
                      if p.is_file() and ".mevops" not in p.parts)
    cold = sorted(p.relative_to(tmp_path / "cold0") for p in (tmp_path / "cold0").rglob("*")
                  if p.is_file() and ".mevops" not in p.parts)
    runs["files"] = [len(rendered)] if rendered == cold else []
    return runs


def report(title: str, runs: dict[str, list[float]]) -> bool:
    med = {k: statistics.median(v) for k, v in runs.items() if k != "files"}
    baseline = med["baseline"]
    print(title)
    print(f"  mevops --version (baseline)              median {baseline * 1000:7.1f} ms")
    for key, label, target in (("cold", "full render, cold CLI, input cache cold", FULL_TARGET_S),
                               ("warm", "full render, cold CLI, input cache warm", FULL_TARGET_S),
                               ("nochange", "no-change re-render", NOCHANGE_TARGET_S)):
        print(f"  {label:<40} median {med[key] * 1000:7.1f} ms  max {max(runs[key]) * 1000:7.1f} ms  "
              f"ratio {med[key] / baseline:5.2f}x  {verdict(med[key], target)}")
    if not runs["files"]:
        print("  the input-cache cold and warm renders produced DIFFERENT trees")
    return bool(runs["files"]) and med["cold"] <= FULL_TARGET_S and med["warm"] <= FULL_TARGET_S \
        and med["nochange"] <= NOCHANGE_TARGET_S


def main() -> int:
    cli = mevops_cmd()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEVOPS_")}
    with tempfile.TemporaryDirectory(prefix="mevops-bench-") as tmp:
        tmp_path = Path(tmp)
        installed = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
        installed.update(PYTHONPYCACHEPREFIX=str(tmp_path / "pyc"), XDG_CACHE_HOME=str(tmp_path / "a" / "cache"))
        (tmp_path / "a").mkdir()
        first = measure(cli, tmp_path / "a", installed)
        second = None
        if base.get("PYTHONDONTWRITEBYTECODE"):
            (tmp_path / "b").mkdir()
            second = measure(cli, tmp_path / "b", {**base, "XDG_CACHE_HOME": str(tmp_path / "b" / "cache")})
    print(f"reference workspace: 8 chains x 3 networks, development; {(first['files'] or ['?'])[0]} files rendered; "
          f"median of {RUNS} runs")
    met = report("bytecode cached (as an installed CLI):", first)
    if second is not None:
        report("PYTHONDONTWRITEBYTECODE=1 as inherited (mevops compiled from source at every run):", second)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
