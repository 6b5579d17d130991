"""Apply a plan, durably: every step is journaled (and fsynced) before it touches the disk.

- Same filesystem: ``rename(2)``. A directory moves whole in O(1), without scratch space. Renames
  are journaled in one batch (one fsync for all ``started`` records, one for all ``done``): a
  crash in between is resolved by looking (source gone and destination there = done).
- Another filesystem: copy into ``.<name>.mevops-partial`` beside the destination (sparse-aware,
  digesting), syncfs, re-read and compare digests, rename into place, journal ``verified``, and only
  then remove the source (like rsync --remove-source-files, never before verification). Two items
  are copied side by side, biggest first; verified sources are removed in the background.
- Then rewrite paths inside moved compose files, units, scripts and configs; the original bytes
  are saved (and fsynced) in the journal directory first.

``resume`` re-runs the same code: each step picks up from its journaled state.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mevops.errors import CheckFailed, MevopsError, Problem
from mevops.migrate.copy import HASH, TreeCopier, check_tree, file_type, remove_tree, syncfs
from mevops.migrate.faults import Faults
from mevops.migrate.journal import Migration, State, fsync_dir
from mevops.migrate.plan import Plan
from mevops.migrate.remover import Remover
from mevops.migrate.steps import (
    Step,
    empty_dir_stat,
    is_replaced_empty,
    make_parents,
    restore_empty_dir,
    same_filesystem,
    started_record,
    steps_of,
    sync_filesystems,
    write_at,
)
from mevops.migrate.stop import DEFAULT_GRACE, Stopped

__all__ = ["MigrateFailed", "Outcome", "Progress", "Runner", "Step", "apply_plan", "empty_dir_stat", "restore_empty_dir",
           "resume", "steps_of", "sync_filesystems"]


COPY_WORKERS = 2  # items copied side by side across filesystems (the copy, hashing and syscalls release the GIL)


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


class MigrateFailed(CheckFailed):
    """A step failed (disk full, permission denied...): both sides are intact; exit 1."""


class Progress:
    """What apply reports as it goes (the CLI draws a rich progress bar; tests see nothing)."""

    def start(self, total_bytes: int, copies: int) -> None: ...
    def phase(self, text: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def stop(self) -> None: ...
    def note(self, text: str) -> None: ...


@dataclass
class Outcome:
    already: bool = False
    renamed: int = 0
    copied: int = 0
    copied_bytes: int = 0
    rewritten: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    journal: str = ""
    stopped: list[str] = field(default_factory=list)   # what --stop stopped first


# -- preflight -----------------------------------------------------------------------------------
def refuse_if_in_use(plan: Plan, steps: list[Step], stop: bool, grace: float = DEFAULT_GRACE,
                     progress: Progress | None = None) -> list[Stopped]:
    """Nothing may use the data about to move: refuse (exit 1), or with ``stop`` stop its users through the lifecycle
    layer and look again (see stop.py). What was stopped."""
    from mevops.migrate.holders import in_use

    busy = in_use(plan, steps)
    if busy and stop:
        from mevops.migrate.stop import stop_users

        return stop_users(busy, lambda: in_use(plan, steps), grace, (progress or Progress()).note)
    if busy:
        raise CheckFailed(f"refusing to migrate: a node still uses the data (stop it first, or pass --stop):\n  {busy.shown()}")
    return []


# -- the runner ------------------------------------------------------------------------------------
class Runner:
    def __init__(self, mig: Migration, plan: Plan, progress: Progress | None = None, faults: Faults | None = None) -> None:
        self.mig, self.plan = mig, plan
        self.progress = progress or Progress()
        self.faults = faults or Faults()
        self.outcome = Outcome(journal=str(mig.dir))
        self.copier = TreeCopier(on_bytes=self.progress.advance)
        self.lazy: list[dict[str, Any]] = []  # `done` records that may wait for the next write
        self.remover = Remover(self.faults)
        self.lock = threading.RLock()           # journal, counters: copies run side by side
        self.failures: list[MigrateFailed] = []

    def run(self) -> Outcome:
        t0 = time.perf_counter()
        state = self.mig.state()
        steps = steps_of(self.plan)
        self._restore_links(state, steps)
        renames, copies = [], []
        for s in (s for s in steps if s.op == "move"):
            rec = state.started(s.n)
            if state.of(s.n) == "done" and not (rec and os.path.lexists(s.src) and rec.get("kind") == "copy"):
                continue  # (a copy whose source removal did not survive a power loss is finished again)
            kind = rec["kind"] if rec else ("rename" if same_filesystem(s.src, s.dst) else "copy")
            (renames if kind == "rename" else copies).append(s)
        self.progress.start(sum(s.item.size for s in copies), len(copies))
        try:
            copies += self.rename_batch(renames, state)
            self.copy_all(copies, state)
            self.collect_removals(wait=True)
            self.write()
            sync_filesystems({os.path.dirname(s.src) for s in copies})
            self.rewrite_batch([s for s in steps if s.op == "rewrite" and state.of(s.n) != "done"], state)
        finally:
            self.remover.close()
            self.progress.stop()
        self.write({"op": "complete"})
        self.outcome.warnings += self.copier.warnings
        self.outcome.seconds = time.perf_counter() - t0
        return self.outcome

    def write(self, *records: dict[str, Any]) -> None:
        """Journal records, durably, together with the lazy ``done`` records of finished steps."""
        with self.lock:
            self.collect_removals()
            batch, self.lazy = self.lazy + list(records), []
            self.mig.journal.write(*batch)

    def collect_removals(self, wait: bool = False) -> None:
        """Copies whose source the background remover has deleted are done (journaled lazily)."""
        with self.lock:
            done, failure = self.remover.finished(wait)
            self.lazy += [{"n": s.n, "state": "done"} for s in done]
            self.outcome.copied += len(done)
            if failure is not None:
                s, exc = failure
                self.mig.journal.write(*self.lazy)
                self.lazy = []
                raise MigrateFailed(f"{s.label}: copied and verified, but removing the source failed: {exc}; "
                                    f"run `mevops migrate resume` once fixed (the copy is complete)")

    def _restore_links(self, state: State, steps: list[Step]) -> None:
        """Hard links copied by earlier (finished) steps, so later copies link to them again."""
        for s in steps:
            if s.op == "move" and state.of(s.n) in ("verified", "done"):
                manifest = self.mig.manifest(s.n, state) or {}
                for key, (path, digest) in manifest.get("links", {}).items():
                    dev, ino = (int(x) for x in key.split(":"))
                    self.copier.links[(dev, ino)], self.copier.digests[(dev, ino)] = path, digest

    # -- same filesystem ---------------------------------------------------------------------------
    def rename_batch(self, steps: list[Step], state: State) -> list[Step]:
        """Rename every step; returns the ones that turned out to cross filesystems (EXDEV)."""
        fresh = [started_record(s, "rename") for s in steps if state.started(s.n) is None]
        self.write(*fresh)
        records = {r["n"]: r for r in fresh} | {s.n: state.started(s.n) for s in steps if state.started(s.n)}
        touched: set[str] = set()
        made: set[str] = set()
        done, crossed = [], []
        for s in steps:
            rec = records[s.n]
            self.faults.point(s.n, "before")
            src_there, dst_there = os.path.lexists(s.src), os.path.lexists(s.dst)
            if not src_there and dst_there:
                done.append(s)
                continue
            if not src_there:
                raise MigrateFailed(f"{s.label}: neither the source nor the destination exists; the journal is at {self.mig.dir}")
            if dst_there and not is_replaced_empty(s.dst, rec):
                raise MigrateFailed(f"{s.label}: {s.dst} appeared since the plan was made; move it away and resume")
            make_parents(rec["created"], made)
            try:
                os.rename(s.src, s.dst)
            except OSError as exc:
                if exc.errno == errno.EXDEV:
                    crossed.append(s)
                    continue
                raise MigrateFailed(f"{s.label}: {exc.strerror}: nothing was moved; "
                                    "fix it and run `mevops migrate resume`") from None
            self.faults.point(s.n, "after")
            touched |= {os.path.dirname(s.src), os.path.dirname(s.dst), *(os.path.dirname(c) for c in rec["created"])}
            done.append(s)
        sync_filesystems(touched)
        self.lazy += [{"n": s.n, "state": "done"} for s in done]  # a rename is checked by looking: may wait
        self.outcome.renamed += len(done)
        return crossed

    # -- across filesystems ------------------------------------------------------------------------
    def copy_all(self, copies: list[Step], state: State) -> None:
        """Copy items side by side (one per core, up to COPY_WORKERS), biggest first, so the background
        removal of the last (small) sources ends almost at once; stop starting new ones after a failure."""
        copies = sorted(copies, key=lambda s: -s.item.size)
        workers = max(1, min(COPY_WORKERS, os.cpu_count() or 1, len(copies)))
        if workers == 1:
            for s in copies:
                self.copy_step(s, state, self.copier)
            return
        local = threading.local()

        def one(s: Step) -> None:
            if self.failures:
                return
            if not hasattr(local, "copier"):
                local.copier = self.copier.sibling()
            try:
                self.copy_step(s, state, local.copier)
            except MigrateFailed as exc:
                self.failures.append(exc)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mevops-copy") as pool:
            list(pool.map(one, copies))
        if self.failures:
            raise self.failures[0]

    def copy_step(self, s: Step, state: State, copier: TreeCopier) -> None:
        rec = state.started(s.n)
        if rec is None or rec.get("kind") != "copy":
            rec = started_record(s, "copy")
            self.write(rec)
        if state.of(s.n) not in ("verified", "done"):
            self._copy_and_verify(s, rec, copier)
        else:  # copied by an earlier run: delete only what that run copied
            changed = self._changed_since_copy(s, state)
            if changed:
                raise MigrateFailed(f"{s.label}: the source changed since it was copied and verified ({changed}); "
                                    "refusing to delete it: move it aside, then `mevops migrate resume`")
        with self.lock:
            self.remover.submit(s)  # verified and journaled: the source may go (in the background)

    def _changed_since_copy(self, s: Step, state: State) -> str | None:
        entries = {e["rel"]: e for e in (self.mig.manifest(s.n, state) or {}).get("entries", [])}
        stack = [("", s.src)]
        while stack:
            rel, path = stack.pop()
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            want = entries.get(rel)
            if want is None or file_type(st.st_mode) != want["type"]:
                return f"{rel or s.item.source} was not part of the copy"
            if want["type"] == "file" and (st.st_size, st.st_mtime_ns) != (want["size"], want["mtime"]):
                return f"{rel or s.item.source} was modified"
            if want["type"] == "dir":
                with os.scandir(path) as it:
                    stack += [(f"{rel}/{e.name}" if rel else e.name, e.path) for e in it]
        return None

    def _copy_and_verify(self, s: Step, rec: dict[str, Any], copier: TreeCopier) -> None:
        tmp = rec["tmp"]
        remove_tree(tmp)
        if os.path.lexists(s.dst) and not is_replaced_empty(s.dst, rec):
            remove_tree(s.dst)  # our own copy from an interrupted run (the source is intact until `verified`)
        with self.lock:
            make_parents(rec["created"])
        self.faults.point(s.n, "before")
        self.progress.phase(f"copying {s.item.source}")
        copier.tick = (lambda: self.faults.io(s.n)) if self.faults.kind else None
        try:
            manifest = copier.copy(s.src, tmp)
            syncfs(os.path.dirname(tmp))
            self.progress.phase(f"verifying {s.item.source}")
            problems = check_tree(tmp, manifest, drop_cache=True, owners=not copier.warnings, extras=False)
            if problems:
                raise MigrateFailed(f"{s.label}: the copy does not match the source: {'; '.join(problems[:5])}")
        except (OSError, MigrateFailed) as exc:
            remove_tree(tmp)
            fsync_dir(os.path.dirname(tmp))
            with copier.lock:
                for key in [k for k, v in copier.links.items() if _under(v, tmp)]:
                    del copier.links[key]
            where = getattr(exc, "filename", "") or s.src
            reason = str(exc) if isinstance(exc, MigrateFailed) else f"{exc.strerror or exc} ({where})"
            self.write({"n": s.n, "state": "failed", "error": reason})
            raise MigrateFailed(f"{s.label} failed: {reason}. Nothing was removed from the source and the partial copy "
                                f"was deleted; fix the cause and run `mevops migrate resume`") from None
        finally:
            copier.tick = None
        os.rename(tmp, s.dst)
        fsync_dir(os.path.dirname(s.dst))
        with copier.lock:
            for key, path in list(copier.links.items()):
                if _under(path, tmp):
                    copier.links[key] = s.dst + path[len(tmp):]
            links = {f"{k[0]}:{k[1]}": (v, copier.digests[k]) for k, v in copier.links.items() if _under(v, s.dst)}
        for entry in manifest:
            if "link" in entry and _under(entry["link"], tmp):
                entry["link"] = s.dst + entry["link"][len(tmp):]
        self.write({"n": s.n, "state": "verified", **self.mig.store_manifest(s.n, {"hash": HASH, "entries": manifest,
                                                                                       "links": links})})
        with self.lock:
            self.outcome.copied_bytes += sum(e.get("size", 0) for e in manifest if e["type"] == "file" and "link" not in e)

    # -- path rewriting ----------------------------------------------------------------------------
    def rewrite_batch(self, steps: list[Step], state: State) -> None:
        if not steps:
            return
        from mevops.migrate.rewrite import mapping_for, rewrite_bytes

        self.progress.phase("rewriting paths")
        paths = mapping_for(self.plan)
        saved = self.mig.originals()
        new = []
        for s in steps:
            if s.n not in saved and state.started(s.n) is None:
                with open(s.dst, "rb") as fh:
                    saved[s.n] = fh.read()
                new.append((s.n, saved[s.n]))
        self.mig.save_originals(new)
        fresh = []
        for s in steps:
            if state.started(s.n) is None:
                st = os.lstat(s.dst)
                fresh.append({"n": s.n, "state": "started", "kind": "rewrite", "file": s.dst,
                              "times": [st.st_atime_ns, st.st_mtime_ns]})
        self.write(*fresh)
        for s in steps:
            self.faults.point(s.n, "before")
            original = saved[s.n]
            data = rewrite_bytes(original, paths, os.path.dirname(s.src), s.item.kind)
            if data is None or data == original:
                continue
            fd = os.open(s.dst, os.O_WRONLY | os.O_NOFOLLOW)  # in place: same inode, owner, mode, hard links
            try:
                half = len(data) // 2
                write_at(fd, data[:half], 0)
                self.faults.point(s.n, "mid")
                write_at(fd, data[half:], half)
                os.ftruncate(fd, len(data))
            finally:
                os.close(fd)
            self.faults.point(s.n, "after")
            self.outcome.rewritten += 1
        syncfs(self.plan.root)  # every rewritten file durable at once
        self.lazy += [{"n": s.n, "state": "done"} for s in steps]


# -- entry points --------------------------------------------------------------------------------------
def apply_plan(plan: Plan, plan_text: str, *, progress: Progress | None = None, faults: Faults | None = None,
               stop: bool = False, grace: float = DEFAULT_GRACE) -> Outcome:
    steps = steps_of(plan)
    existing = Migration.find(plan.root)
    if existing is not None:
        state = existing.state()
        if state.plan_id == plan.plan_id and not state.rolled_back:
            if state.complete and not state.rollback:
                return Outcome(already=True, journal=str(existing.dir))
            return resume(existing, progress=progress, faults=faults, stop=stop, grace=grace)
        if not (state.complete or state.rolled_back):
            raise MevopsError(Problem(str(existing.dir), None, "", f"another migration (plan {state.plan_id}) is unfinished "
                                      "here: `mevops migrate resume` or `mevops migrate rollback` it first"))
        existing.archive()
    stopped = refuse_if_in_use(plan, steps, stop, grace, progress)
    planned = [{"n": s.n, "state": "planned", "op": s.op, "src": s.src, "dst": s.dst} for s in steps]
    mig = Migration.create(plan.root, plan_text, plan.plan_id, planned + [s.record() for s in stopped])
    return _run(mig, plan, progress, faults, stopped)


def _run(mig: Migration, plan: Plan, progress: Progress | None, faults: Faults | None, stopped: list[Stopped]) -> Outcome:
    outcome = Runner(mig, plan, progress, faults).run()
    outcome.stopped = [str(s) for s in stopped]
    return outcome


def resume(mig: Migration, *, progress: Progress | None = None, faults: Faults | None = None, stop: bool = False,
           grace: float = DEFAULT_GRACE) -> Outcome:
    state = mig.state()
    if state.rollback:
        raise MevopsError(Problem(str(mig.dir), None, "", "a rollback of this migration was interrupted: "
                                  "run `mevops migrate rollback` again to finish it"))
    if state.complete:
        return Outcome(already=True, journal=str(mig.dir))
    plan = mig.plan()
    pending = [s for s in steps_of(plan) if state.of(s.n) not in ("done", "verified") and os.path.lexists(s.src)]
    stopped = refuse_if_in_use(plan, pending, stop, grace, progress)
    mig.journal.write(*(s.record() for s in stopped))
    return _run(mig, plan, progress, faults, stopped)
