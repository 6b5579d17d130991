"""A plan as numbered steps, and the small filesystem facts a step records to be undone."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

from mevops.migrate.copy import syncfs
from mevops.migrate.plan import Plan, PlanItem


@dataclass(frozen=True)
class Step:
    n: int
    op: str            # move | rewrite
    item: PlanItem
    src: str           # absolute source path
    dst: str           # absolute destination path

    @property
    def label(self) -> str:
        what = f"rewrite {self.dst}" if self.op == "rewrite" else f"{self.item.source} → {self.item.dest}"
        return f"step {self.n} ({what})"


def steps_of(plan: Plan) -> list[Step]:
    moves = plan.moves
    steps = [Step(i + 1, "move", item, os.path.join(plan.source, item.source), os.path.join(plan.root, item.dest or ""))
             for i, item in enumerate(moves)]
    steps += [Step(len(steps) + k + 1, "rewrite", s.item, s.src, s.dst) for k, s in
              enumerate(s for s in steps[: len(moves)] if s.item.rewrite and s.item.type == "file")]
    return steps


def _times(path: str) -> list[int]:
    st = os.lstat(path)
    return [st.st_atime_ns, st.st_mtime_ns]


def _dir_mode(path: str) -> int:
    if "/.mevops" in path or "/config/keys" in path:
        return 0o700
    return 0o750 if "/data/" in path + "/" else 0o755


def missing_parents(path: str) -> list[str]:
    out = []
    parent = os.path.dirname(path)
    while not os.path.lexists(parent):
        out.append(parent)
        parent = os.path.dirname(parent)
    return list(reversed(out))


def make_parents(created: list[str], made: set[str] | None = None) -> None:
    for directory in created:
        if made is not None and directory in made:
            continue
        try:
            os.mkdir(directory, _dir_mode(directory))
        except FileExistsError:
            pass
        if made is not None:
            made.add(directory)


def empty_dir_stat(path: str) -> dict[str, int] | None:
    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and not os.listdir(path):
            return {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                    "atime": st.st_atime_ns, "mtime": st.st_mtime_ns}
    except OSError:
        pass
    return None


def same_filesystem(src: str, dst: str) -> bool:
    parent = os.path.dirname(dst)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return os.lstat(src).st_dev == os.stat(parent).st_dev


def sync_filesystems(paths: set[str]) -> None:
    """Make renames under ``paths`` durable: one syncfs per filesystem (not one fsync per directory)."""
    seen = set()
    for path in sorted(paths):
        try:
            dev = os.stat(path).st_dev
        except OSError:
            continue
        if dev not in seen:
            seen.add(dev)
            syncfs(path)


def started_record(s: Step, kind: str) -> dict[str, Any]:
    st = os.lstat(s.src)
    rec = {"n": s.n, "state": "started", "kind": kind, "src": s.src, "dst": s.dst,
           "created": missing_parents(s.dst), "replaced": empty_dir_stat(s.dst),
           "parents": {os.path.dirname(s.src): _times(os.path.dirname(s.src))},
           "identity": [st.st_dev, st.st_ino, stat.S_IFMT(st.st_mode)]}
    if kind == "copy":
        rec["tmp"] = partial_path(s.dst)
    return rec


def partial_path(dst: str) -> str:
    return os.path.join(os.path.dirname(dst), f".{os.path.basename(dst)}.mevops-partial")


def is_replaced_empty(path: str, rec: dict[str, Any]) -> bool:
    return bool(rec.get("replaced")) and empty_dir_stat(path) is not None


def restore_empty_dir(path: str, info: dict[str, int] | None) -> None:
    if not info or os.path.lexists(path):
        return
    os.mkdir(path, 0o700)
    try:
        os.chown(path, info["uid"], info["gid"])
    except PermissionError:
        pass
    os.chmod(path, info["mode"])
    os.utime(path, ns=(info["atime"], info["mtime"]))


def write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n
