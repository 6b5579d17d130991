"""The durable journal of a migration: an append-only JSON-lines file, fsynced before each step.

    <root>/.mevops/migrate/current/
        plan.yml          the plan as applied (frozen: resume and rollback read this one)
        journal.jsonl     begin, then per step planned → started → (verified) → done | failed,
                          (stopped: what --stop stopped first, before any step started),
                          rollback → undo-started → undo-copied → undo-restored → undone
        originals.jsonl   the original bytes of every rewritten file (base64), fsynced before the rewrite
        manifests/N.json  per copied item: every entry's type, mode, owner, times, digest (what verify re-checks)

A ``started`` record carries what undoing the step needs: the source's identity, the
destination directories it creates, the empty directory it replaces, the source parent's times.
A finished migration moves to ``history/`` when the next one starts.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

STATE_DIR = ".mevops/migrate"
CURRENT = "current"
INLINE_MANIFEST = 256 * 1024


def fsync_dir(path: str | os.PathLike[str]) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durable(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a whole file (temp + fsync + rename + fsync of the directory)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def write(self, *records: dict[str, Any], sync: bool = True) -> None:
        if not records:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        now = round(time.time(), 3)
        data = "".join(json.dumps({"t": now, **r}, ensure_ascii=False) + "\n" for r in records).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        if sync:
            os.fsync(self._fd)

    def read(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return []
        out = []
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                if i < len(lines) - 2:  # only the last line may be torn (power loss mid-write)
                    raise MevopsError(Problem(str(self.path), i + 1, "journal", "corrupt record")) from None
        return out

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class StepState:
    n: int
    state: str = "planned"
    started: dict[str, Any] | None = None
    error: str | None = None
    manifest: Any = None


@dataclass
class State:
    """The journal replayed."""

    begun: bool = False
    plan_id: str | None = None
    complete: bool = False
    rollback: bool = False
    rolled_back: bool = False
    steps: dict[int, StepState] = field(default_factory=dict)
    dir_times: dict[str, list[int]] = field(default_factory=dict)  # source parent → [atime_ns, mtime_ns], first seen
    stopped: list[dict[str, Any]] = field(default_factory=list)     # what `--stop` stopped before moving

    def of(self, n: int) -> str:
        return self.steps[n].state if n in self.steps else "planned"

    def started(self, n: int) -> dict[str, Any] | None:
        return self.steps[n].started if n in self.steps else None


def replay(records: Iterable[dict[str, Any]]) -> State:
    state = State()
    for rec in records:
        op = rec.get("op")
        if op == "begin":
            state.begun, state.plan_id = True, rec.get("plan_id")
        elif op == "complete":
            state.complete = True
        elif op == "rollback":
            state.rollback = True
        elif op == "rolled-back":
            state.rolled_back = True
        elif op == "stopped":
            state.stopped.append(rec)
        elif "n" in rec:
            step = state.steps.setdefault(rec["n"], StepState(rec["n"]))
            step.state = rec["state"]
            if rec["state"] == "started":
                step.started = rec
                for path, times in rec.get("parents", {}).items():
                    state.dir_times.setdefault(path, times)
            if rec["state"] == "failed":
                step.error = rec.get("error")
            if rec["state"] == "verified":
                step.manifest = rec.get("manifest")
    return state


class Migration:
    """One migration's state directory under the root."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.journal = Journal(directory / "journal.jsonl")

    @property
    def plan_file(self) -> Path:
        return self.dir / "plan.yml"

    @staticmethod
    def location(root: str | os.PathLike[str]) -> Path:
        return Path(root) / STATE_DIR / CURRENT

    @classmethod
    def find(cls, root: str | os.PathLike[str]) -> "Migration | None":
        directory = cls.location(root)
        return cls(directory) if (directory / "journal.jsonl").is_file() else None

    @classmethod
    def create(cls, root: str, plan_text: str, plan_id: str, records: list[dict[str, Any]]) -> "Migration":
        directory = cls.location(root)
        made = []
        probe = directory
        while not probe.exists():
            made.append(probe)
            probe = probe.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (directory / "manifests").mkdir(exist_ok=True, mode=0o700)
        mig = cls(directory)
        mig.plan_file.write_text(plan_text)
        mig.journal.write({"op": "begin", "plan_id": plan_id, "root": root, "pid": os.getpid()}, *records, sync=False)
        from mevops.migrate.copy import syncfs

        syncfs(str(directory))  # the directories, the frozen plan and the journal, durable at once
        remember(root)
        return mig

    def state(self) -> State:
        return replay(self.journal.read())

    def plan(self):  # noqa: ANN201 - plan.Plan
        from mevops.migrate.plan import load_plan

        return load_plan(self.plan_file, fresh=False)

    def archive(self) -> Path:
        self.journal.close()
        history = self.dir.parent / "history"
        history.mkdir(exist_ok=True, mode=0o700)
        stem = f"{time.strftime('%Y%m%dT%H%M%S')}-{self.state().plan_id}"
        target, n = history / stem, 1
        while target.exists():
            n += 1
            target = history / f"{stem}-{n}"
        os.rename(self.dir, target)
        fsync_dir(history)
        fsync_dir(self.dir.parent)
        return target

    # -- side files -------------------------------------------------------------------------------
    def save_originals(self, originals: list[tuple[int, bytes]]) -> None:
        if not originals:
            return
        fd = os.open(self.dir / "originals.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            data = "".join(json.dumps({"n": n, "data": base64.b64encode(b).decode()}) + "\n" for n, b in originals).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def originals(self) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        try:
            lines = (self.dir / "originals.jsonl").read_bytes().split(b"\n")
        except FileNotFoundError:
            return out
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a torn last line: that step was never started
            out[rec["n"]] = base64.b64decode(rec["data"])
        return out

    def store_manifest(self, n: int, manifest: dict[str, Any]) -> dict[str, Any]:
        """What the ``verified`` record carries: a small manifest inline (one fsync for both), a big one
        as ``manifests/N.json`` (written durably first)."""
        data = json.dumps(manifest)
        if len(data) <= INLINE_MANIFEST:
            return {"manifest": manifest}
        write_durable(self.dir / "manifests" / f"{n}.json", data.encode())
        return {"manifest": "file"}

    def manifest(self, n: int, state: "State | None" = None) -> dict[str, Any] | None:
        state = state or self.state()
        step = state.steps.get(n)
        inline = step.manifest if step else None
        if isinstance(inline, dict):
            return inline
        try:
            return json.loads((self.dir / "manifests" / f"{n}.json").read_bytes())
        except FileNotFoundError:
            return None


# -- where the last migration is (for `resume` and `status` without arguments) ----------------------
def _pointer() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "mevops" / "migrate-root"


def remember(root: str) -> None:
    try:
        path = _pointer()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(root + "\n")
    except OSError:
        pass  # only a convenience: --root always works


def recall() -> str | None:
    try:
        return _pointer().read_text().strip() or None
    except OSError:
        return None
