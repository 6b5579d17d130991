"""Render speed: a full render of the reference workspace (8 chains x 3 networks, one
environment) from a cold CLI process, and a no-change re-render.

Targets: full render <= 1.0 s wall, no-change re-render <= 0.5 s wall.
Baseline measured in the same run: `mevops --version` (a cold CLI that does no work), so the
ratios show what rendering adds to start-up. Run: `python benchmarks/bench_render.py`.
"""

from __future__ import annotations

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


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    cli = mevops_cmd()
    with tempfile.TemporaryDirectory(prefix="mevops-bench-") as tmp:
        tmp_path = Path(tmp)
        ws = tmp_path / "ws"
        subprocess.run([*cli, "init", str(ws)], check=True, stdout=subprocess.DEVNULL)
        timed([*cli, "render", "--root", str(tmp_path / "warm")], ws)  # warm caches (.pyc, page cache)
        baseline = statistics.median(timed([*cli, "--version"], ws) for _ in range(RUNS))
        full, nochange = [], []
        for i in range(RUNS):
            root = tmp_path / f"root{i}"
            full.append(timed([*cli, "render", "--root", str(root)], ws))
            nochange.append(timed([*cli, "render", "--root", str(root)], ws))
        files = sum(1 for p in (tmp_path / "root0").rglob("*") if p.is_file() and ".mevops" not in p.parts)
        full_med, nochange_med = statistics.median(full), statistics.median(nochange)
    print(f"reference workspace: 8 chains x 3 networks, development; {files} files rendered")
    print(f"mevops --version (baseline)    median {baseline * 1000:7.1f} ms")
    print(f"full render, cold CLI          median {full_med * 1000:7.1f} ms  max {max(full) * 1000:7.1f} ms  "
          f"ratio {full_med / baseline:5.2f}x  target <= {FULL_TARGET_S * 1000:.0f} ms: {'met' if full_med <= FULL_TARGET_S else 'MISSED'}")
    print(f"no-change re-render            median {nochange_med * 1000:7.1f} ms  max {max(nochange) * 1000:7.1f} ms  "
          f"ratio {nochange_med / baseline:5.2f}x  target <= {NOCHANGE_TARGET_S * 1000:.0f} ms: {'met' if nochange_med <= NOCHANGE_TARGET_S else 'MISSED'}")
    return 0 if full_med <= FULL_TARGET_S and nochange_med <= NOCHANGE_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
