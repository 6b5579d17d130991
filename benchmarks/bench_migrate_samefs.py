"""Migration speed on one filesystem: `migrate apply` renames, so it must not care how much data
there is.

Fixture: the messy legacy tree of tests/migrate_fixture.py, scaled up (about 20,000 database files,
~1.9 GiB written for real). Baseline in the same run: `cp -a` of the same tree on the same filesystem.
Then the data inside grows 10x (same tree, every database file 10x bigger, allocated with fallocate).

Targets: apply >= 50x faster than `cp -a`; apply time at 10x data < 2x its time at 1x.
"apply" is measured in-process (load and check the plan, look for live users in /proc, journal,
rename, rewrite), median of several runs with a rollback in between; the CLI's wall time, which adds
the interpreter's start-up, is printed too. `sync` runs before every timed operation.
Run: `python benchmarks/bench_migrate_samefs.py` (one to two minutes; needs ~30 GB free).
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mevops.migrate.apply import apply_plan  # noqa: E402
from mevops.migrate.journal import Migration  # noqa: E402
from mevops.migrate.plan import build_plan, dump_plan, human_bytes, load_plan  # noqa: E402
from mevops.migrate.rollback import rollback  # noqa: E402
from mevops.migrate.scan import load_index, scan  # noqa: E402
from tests.migrate_fixture import FixtureSpec, make_messy_tree  # noqa: E402

RUNS = 5
FILES_PER_DB = 1000
FILE_SIZE = 96 << 10
SPEED_TARGET = 50.0
FLAT_TARGET = 2.0


def tree_size(top: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            files += 1
            size += st.st_blocks * 512
    return files, size


def timed(fn) -> float:  # noqa: ANN001
    os.sync()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_apply(base: Path, spec: FixtureSpec, index) -> tuple[float, float, int, int]:  # noqa: ANN001
    src, root, plan_file = base / "nodes", base / "root", base / "plan.yml"
    t0 = time.perf_counter()
    make_messy_tree(src, spec)
    files, size = tree_size(src)
    t1 = time.perf_counter()
    plan_file.write_text(dump_plan(build_plan(scan(src, index), root)))
    text = plan_file.read_text()
    print(f"  (setup: fixture {t1 - t0:.1f} s, scan and plan {time.perf_counter() - t1:.1f} s)", file=sys.stderr)
    apply_plan(load_plan(plan_file), text)  # warm-up: imports, caches
    rollback(Migration.find(root))
    samples = []
    for _ in range(RUNS):
        samples.append(timed(lambda: apply_plan(load_plan(plan_file), text)))
        rollback(Migration.find(root))
    env = {**os.environ, "XDG_STATE_HOME": str(base / "state")}
    os.sync()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mevops", "migrate", "apply", str(plan_file), "--yes"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    cli = time.perf_counter() - start
    rollback(Migration.find(root))
    return statistics.median(samples), cli, files, size


def main() -> int:
    index = load_index()
    with tempfile.TemporaryDirectory(prefix="mevops-bench-samefs-", dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        base = Path(tmp)
        one = base / "x1"
        one.mkdir()
        spec1 = FixtureSpec(chaindata_files=FILES_PER_DB, file_size=FILE_SIZE, sparse_size=64 << 20)
        apply1, cli1, files1, size1 = measure_apply(one, spec1, index)
        cp = statistics.median(timed(lambda i=i: subprocess.run(["cp", "-a", str(one / "nodes"), str(one / f"copy{i}")], check=True))
                               for i in range(2))
        for i in range(2):
            shutil.rmtree(one / f"copy{i}")
        shutil.rmtree(one)
        ten = base / "x10"
        ten.mkdir()
        spec10 = FixtureSpec(chaindata_files=FILES_PER_DB, file_size=10 * FILE_SIZE, sparse_size=640 << 20, dense=False)
        apply10, cli10, files10, size10 = measure_apply(ten, spec10, index)
    speed, flat = cp / apply1, apply10 / apply1
    print(f"fixture 1x : {files1} files, {human_bytes(size1)} on disk (written)")
    print(f"fixture 10x: {files10} files, {human_bytes(size10)} on disk (database files 10x bigger, fallocated)")
    print(f"cp -a (baseline, same run)   median {cp * 1000:9.1f} ms")
    print(f"migrate apply 1x             median {apply1 * 1000:9.1f} ms   (CLI wall time {cli1 * 1000:.0f} ms)")
    print(f"migrate apply 10x            median {apply10 * 1000:9.1f} ms   (CLI wall time {cli10 * 1000:.0f} ms)")
    print(f"speed: apply is {speed:.0f}x faster than cp -a   target >= {SPEED_TARGET:.0f}x: {'met' if speed >= SPEED_TARGET else 'MISSED'}")
    print(f"flat : 10x data takes {flat:.2f}x the time       target < {FLAT_TARGET:.1f}x: {'met' if flat < FLAT_TARGET else 'MISSED'}")
    return 0 if speed >= SPEED_TARGET and flat < FLAT_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
