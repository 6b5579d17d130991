"""Migration speed across filesystems (the repository's disk → /dev/shm, a tmpfs): `migrate apply`
copies (sparse-aware), syncs, re-reads and digests the copy, and only then removes the source.

Baseline in the same run: `cp -a` of the same tree to /dev/shm followed by hashing every file of the
copy with the same digest (BLAKE3). Both read the source from the page cache; runs alternate.

Target: apply's throughput >= 0.7x the baseline's. "apply" is measured in-process (its whole
work: plan check, journal, copy, syncfs, verify, source removal), median of several runs; before
each run the source is restored from a pristine copy (not timed).
Run: `python benchmarks/bench_migrate_crossfs.py` (under a minute; needs ~2 GB of RAM in /dev/shm).
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
from mevops.migrate.digest import HASH, digest_path  # noqa: E402
from mevops.migrate.plan import build_plan, dump_plan, human_bytes, load_plan  # noqa: E402
from mevops.migrate.scan import load_index, scan  # noqa: E402
from tests.migrate_fixture import FixtureSpec, make_messy_tree  # noqa: E402

RUNS = 5
TARGET = 0.7
SHM = Path("/dev/shm")


def data_bytes(top: Path) -> tuple[int, int]:
    """(apparent bytes, allocated bytes) of the regular files under ``top``."""
    apparent = allocated = 0
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            if not os.path.islink(os.path.join(dirpath, name)):
                apparent += st.st_size
                allocated += st.st_blocks * 512
    return apparent, allocated


def hash_tree(top: Path) -> int:
    """Digest every file of the copy with the very same function apply uses."""
    n = 0
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                digest_path(path)
                n += 1
    return n


def main() -> int:
    if not SHM.is_dir():
        print("no /dev/shm here")
        return 1
    index = load_index()
    with tempfile.TemporaryDirectory(prefix="mevops-bench-crossfs-", dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        base = Path(tmp)
        if os.stat(base).st_dev == os.stat(SHM).st_dev:
            print("the temporary directory is on /dev/shm's filesystem: set TMPDIR to a disk")
            return 1
        master = make_messy_tree(base / "master", FixtureSpec(chaindata_files=8, file_size=4 << 20, sparse_size=256 << 20,
                                                              specials=False))
        size, allocated = data_bytes(master)
        src, root = base / "nodes", SHM / f"mevops-bench-root-{os.getpid()}"
        subprocess.run(["cp", "-a", str(master), str(src)], check=True)
        plan_file = base / "plan.yml"
        plan_file.write_text(dump_plan(build_plan(scan(src, index), root)))
        text = plan_file.read_text()
        ours, theirs = [], []
        try:
            for run in range(RUNS + 1):  # the first round warms caches and imports: not counted
                copy = SHM / f"mevops-bench-cp-{os.getpid()}"
                os.sync()
                start = time.perf_counter()
                subprocess.run(["cp", "-a", str(src), str(copy)], check=True)
                hash_tree(copy)
                if run:
                    theirs.append(time.perf_counter() - start)
                shutil.rmtree(copy)

                os.sync()
                start = time.perf_counter()
                outcome = apply_plan(load_plan(plan_file), text)
                if run:
                    ours.append(time.perf_counter() - start)
                assert outcome.copied and not outcome.renamed
                shutil.rmtree(root)
                shutil.rmtree(src)
                subprocess.run(["cp", "-a", str(master), str(src)], check=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    base_t, ours_t = statistics.median(theirs), statistics.median(ours)
    ratio = base_t / ours_t
    print(f"fixture: {human_bytes(size)} of files ({human_bytes(allocated)} of data, the rest holes in sparse files), "
          f"copied to {SHM} ({HASH} digests); throughput below counts apparent bytes")
    print(f"cp -a + hash the copy (baseline)   median {base_t:6.2f} s   {human_bytes(size / base_t)}/s")
    print(f"migrate apply (copy+verify+remove) median {ours_t:6.2f} s   {human_bytes(size / ours_t)}/s")
    print(f"throughput ratio {ratio:.2f}x   target >= {TARGET}x: {'met' if ratio >= TARGET else 'MISSED'}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
