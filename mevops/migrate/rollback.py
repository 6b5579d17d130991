"""Undo a migration (finished or interrupted) from its journal: the source tree comes back
exactly (contents, modes, owners, times, links, sparseness), the destination loses what apply
created. Rollback is itself journaled and can be interrupted and run again.

Order: rewritten files get their original bytes back, then moves are undone in reverse
(renames back in one batch; copies are copied back, verified against the digests taken from the
original source, and only then is the destination copy removed), then the directories apply
created are removed (if empty) and the source directories get their original times back.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from mevops.errors import MevopsError, Problem
from mevops.migrate.apply import MigrateFailed, Progress
from mevops.migrate.copy import HASH, TreeCopier, check_tree, remove_tree, syncfs
from mevops.migrate.digest import digest_path
from mevops.migrate.faults import Faults
from mevops.migrate.journal import Migration, State, fsync_dir
from mevops.migrate.steps import Step, is_replaced_empty, restore_empty_dir, steps_of, sync_filesystems

UNDONE = ("undone",)


@dataclass
class RollbackOutcome:
    restored: int = 0
    rewrites: int = 0
    archived: str = ""
    nothing: bool = False


def rollback(mig: Migration, *, progress: Progress | None = None, faults: Faults | None = None) -> RollbackOutcome:
    faults = faults or Faults()
    progress = progress or Progress()
    state = mig.state()
    if state.rolled_back:
        return RollbackOutcome(nothing=True)
    plan = mig.plan()
    steps = steps_of(plan)
    out = RollbackOutcome()
    if not state.rollback:
        mig.journal.write({"op": "rollback"})
    progress.start(sum(s.item.size for s in steps if _kind(state, s) == "copy"), 0)
    try:
        out.rewrites = _undo_rewrites(mig, state, [s for s in reversed(steps) if s.op == "rewrite"], faults)
        moves = [s for s in reversed(steps) if s.op == "move" and state.of(s.n) not in ("planned",) + UNDONE]
        out.restored += _undo_renames(mig, state, [s for s in moves if _kind(state, s) == "rename"], faults)
        copier = TreeCopier(on_bytes=progress.advance)
        copy_steps = [s for s in moves if _kind(state, s) == "copy"]
        wanted = {e["key"] for s in copy_steps for e in ((mig.manifest(s.n, state) or {}).get("entries") or []) if "key" in e}
        left_behind = _linked_names(plan.source, wanted) if wanted else {}
        for s in copy_steps:
            progress.phase(f"restoring {s.item.source}")
            _undo_copy(mig, state, s, copier, faults, left_behind)
            out.restored += 1
    finally:
        progress.stop()
    _remove_created(state)
    for path, (atime, mtime) in sorted(state.dir_times.items(), key=lambda kv: -kv[0].count("/")):
        if os.path.isdir(path):
            os.utime(path, ns=(atime, mtime))
            fsync_dir(path)
    mig.journal.write({"op": "rolled-back"})
    out.archived = str(mig.archive())
    return out


def _kind(state: State, s: Step) -> str | None:
    rec = state.started(s.n)
    return rec.get("kind") if rec else None


def _undo_rewrites(mig: Migration, state: State, steps: list[Step], faults: Faults) -> int:
    originals = mig.originals()
    undone = []
    for s in steps:
        rec = state.started(s.n)
        if rec is None or state.of(s.n) in UNDONE:
            continue
        faults.point(s.n, "before", undo=True)
        fd = os.open(s.dst, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        try:
            view = memoryview(originals[s.n])
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        atime, mtime = rec["times"]
        os.utime(s.dst, ns=(atime, mtime))
        undone.append(s)
    mig.journal.write(*({"n": s.n, "state": "undone"} for s in undone))
    return len(undone)


def _undo_renames(mig: Migration, state: State, steps: list[Step], faults: Faults) -> int:
    if not steps:
        return 0
    mig.journal.write(*({"n": s.n, "state": "undo-started"} for s in steps if state.of(s.n) != "undo-started"))
    touched: set[str] = set()
    for s in steps:
        rec = state.started(s.n)
        faults.point(s.n, "before", undo=True)
        src_there, dst_there = os.path.lexists(s.src), os.path.lexists(s.dst)
        if dst_there and not src_there:
            os.rename(s.dst, s.src)
        elif src_there and (not dst_there or is_replaced_empty(s.dst, rec)):
            pass  # never moved (or already back)
        else:
            raise MigrateFailed(f"{s.label}: cannot tell where it is (source {'present' if src_there else 'missing'}, "
                                f"destination {'present' if dst_there else 'missing'}); the journal is at {mig.dir}")
        restore_empty_dir(s.dst, rec.get("replaced"))
        faults.point(s.n, "after", undo=True)
        touched |= {os.path.dirname(s.src), os.path.dirname(s.dst)}
    sync_filesystems(touched)
    mig.journal.write(*({"n": s.n, "state": "undone"} for s in steps))
    return len(steps)


def _linked_names(source: str, wanted: set[str]) -> dict[str, str]:
    """'dev:ino' → a path still in the source, for copied files that had other names (before anything comes back)."""
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(source):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            key = f"{st.st_dev}:{st.st_ino}"
            if stat.S_ISREG(st.st_mode) and key in wanted:
                out.setdefault(key, path)
    return out


def _same_file(path: str, rec: dict) -> bool:
    """A left-behind name is the recorded file only if size, mtime and digest agree: an inode number
    alone can be reused by a file created since (e.g. by an interrupted earlier rollback)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size != rec.get("size") or st.st_mtime_ns != rec.get("mtime"):
        return False
    return "digest" not in rec or digest_path(path) == rec["digest"]


def _seed_links(copier: TreeCopier, manifest: list[dict], dst: str, left_behind: dict[str, str]) -> None:
    """Copies of files whose other names stayed in the source get linked to those names again."""
    for rec in manifest:
        partner = left_behind.get(rec.get("key", ""))
        if partner is None or not _same_file(partner, rec):
            continue
        try:
            st = os.lstat(os.path.join(dst, rec["rel"]) if rec["rel"] else dst)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key not in copier.links:
            copier.links[key], copier.digests[key] = partner, rec["digest"]


def _undo_copy(mig: Migration, state: State, s: Step, copier: TreeCopier, faults: Faults,
               left_behind: dict[str, str]) -> None:
    rec = state.started(s.n)
    phase = state.of(s.n)
    if phase in ("started", "failed"):
        # Never verified: the source is intact; drop whatever part of the copy exists.
        remove_tree(rec["tmp"])
        if os.path.lexists(s.dst) and not is_replaced_empty(s.dst, rec):
            remove_tree(s.dst)
        restore_empty_dir(s.dst, rec.get("replaced"))
        mig.journal.write({"n": s.n, "state": "undone"})
        return
    back = os.path.join(os.path.dirname(s.src), f".{os.path.basename(s.src)}.mevops-rollback")
    stored = mig.manifest(s.n, state) or {}
    if stored.get("hash", HASH) != HASH:
        raise MevopsError(Problem(str(mig.dir), None, "", f"its digests were taken with {stored['hash']}; install the "
                                  f"`{stored['hash']}` package to roll back (a copy back is verified against them)"))
    manifest = stored.get("entries")
    if manifest is None:
        raise MevopsError(Problem(str(mig.dir / "manifests" / f"{s.n}.json"), None, "", "missing: cannot verify a copy back"))
    if phase in ("verified", "done", "undo-started"):
        mig.journal.write({"n": s.n, "state": "undo-started"})
        remove_tree(back)
        faults.point(s.n, "before", undo=True)
        _seed_links(copier, manifest, s.dst, left_behind)
        copier.tick = lambda: faults.point(s.n, "mid", undo=True)
        restored = copier.copy(s.dst, back)
        copier.tick = None
        syncfs(os.path.dirname(back))
        problems = check_tree(back, manifest, drop_cache=True, owners=not copier.warnings, links=False)
        if problems:
            remove_tree(back)
            raise MigrateFailed(f"{s.label}: the copy back does not match the original: {'; '.join(problems[:5])}; "
                                f"nothing removed, the migrated copy at {s.dst} is intact")
        del restored
        mig.journal.write({"n": s.n, "state": "undo-copied"})
        phase = "undo-copied"
    if phase == "undo-copied":
        if os.path.lexists(back):
            remove_tree(s.src)  # the pieces apply had not removed yet: identical to what comes back
            os.rename(back, s.src)
        fsync_dir(os.path.dirname(s.src))
        copier.links = {k: (s.src + v[len(back):] if v == back or v.startswith(back + "/") else v)
                        for k, v in copier.links.items()}
        mig.journal.write({"n": s.n, "state": "undo-restored"})
    faults.point(s.n, "after", undo=True)
    remove_tree(s.dst)
    restore_empty_dir(s.dst, rec.get("replaced"))
    fsync_dir(os.path.dirname(s.dst))
    mig.journal.write({"n": s.n, "state": "undone"})


def _remove_created(state: State) -> None:
    created = {d for step in state.steps.values() if step.started for d in step.started.get("created", [])}
    for directory in sorted(created, key=lambda d: -d.count("/")):
        try:
            os.rmdir(directory)
        except OSError:
            pass  # not empty (something else lives there now) or already gone
