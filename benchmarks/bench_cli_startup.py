"""How fast is `mevops --help`? Target: under 0.25 s wall on this machine.

Baseline measured in the same run: a bare `python -c pass` of the same interpreter, so the
ratio shows what mevops itself adds to start-up. Run: `python benchmarks/bench_cli_startup.py`.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
TARGET_S = 0.25


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(cmd: list[str]) -> tuple[float, float]:
    wall(cmd)  # warm the page cache
    samples = [wall(cmd) for _ in range(RUNS)]
    return statistics.median(samples), max(samples)


def main() -> int:
    script = Path(sys.executable).with_name("mevops")
    mevops = [str(script)] if script.exists() else [shutil.which("mevops") or "mevops"]
    base_med, base_max = measure([sys.executable, "-c", "pass"])
    help_med, help_max = measure([*mevops, "--help"])
    ver_med, _ = measure([*mevops, "--version"])
    print(f"python -c pass    median {base_med * 1000:7.1f} ms  max {base_max * 1000:7.1f} ms  (baseline)")
    print(f"mevops --help     median {help_med * 1000:7.1f} ms  max {help_max * 1000:7.1f} ms  ratio {help_med / base_med:5.2f}x")
    print(f"mevops --version  median {ver_med * 1000:7.1f} ms")
    ok = help_med < TARGET_S
    print(f"target mevops --help < {TARGET_S * 1000:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
