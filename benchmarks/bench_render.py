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


def main() -> int:
    cli = mevops_cmd()
    with tempfile.TemporaryDirectory(prefix="mevops-bench-") as tmp:
        tmp_path = Path(tmp)
        ws = tmp_path / "ws"
        cache = tmp_path / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        env = {k: v for k, v in env.items() if not k.startswith("MEVOPS_")}
        subprocess.run([*cli, "init", str(ws)], check=True, stdout=subprocess.DEVNULL, env=env)
        timed([*cli, "render", "--root", str(tmp_path / "warm")], ws, env)  # warm caches (.pyc, page cache, Jinja)
        baseline = statistics.median(timed([*cli, "--version"], ws, env) for _ in range(RUNS))
        cold, warm, nochange = [], [], []
        for i in range(RUNS):
            shutil.rmtree(cache / "mevops" / "inputs", ignore_errors=True)
            cold.append(timed([*cli, "render", "--root", str(tmp_path / f"cold{i}")], ws, env))
            root = tmp_path / f"root{i}"
            warm.append(timed([*cli, "render", "--root", str(root)], ws, env))
            nochange.append(timed([*cli, "render", "--root", str(root)], ws, env))
        files = sum(1 for p in (tmp_path / "root0").rglob("*") if p.is_file() and ".mevops" not in p.parts)
        same = all((tmp_path / "cold0" / p.relative_to(tmp_path / "root0")).is_file()
                   for p in (tmp_path / "root0").rglob("*") if p.is_file() and ".mevops" not in p.parts)
    cold_med, warm_med, nochange_med = statistics.median(cold), statistics.median(warm), statistics.median(nochange)
    print(f"reference workspace: 8 chains x 3 networks, development; {files} files rendered"
          f"{'' if same else ' (cache-cold and cache-warm trees DIFFER)'}")
    print(f"mevops --version (baseline)              median {baseline * 1000:7.1f} ms")
    for label, runs, med, target in (("full render, cold CLI, input cache cold", cold, cold_med, FULL_TARGET_S),
                                     ("full render, cold CLI, input cache warm", warm, warm_med, FULL_TARGET_S),
                                     ("no-change re-render", nochange, nochange_med, NOCHANGE_TARGET_S)):
        print(f"{label:<40} median {med * 1000:7.1f} ms  max {max(runs) * 1000:7.1f} ms  "
              f"ratio {med / baseline:5.2f}x  {verdict(med, target)}")
    met = cold_med <= FULL_TARGET_S and warm_med <= FULL_TARGET_S and nochange_med <= NOCHANGE_TARGET_S
    return 0 if met and same else 1


if __name__ == "__main__":
    sys.exit(main())
