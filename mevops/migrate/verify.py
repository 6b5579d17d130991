"""Prove every source byte is at its destination.

- A renamed item is the very same inode (device and inode number recorded before the rename):
  rename(2) moves a name, never a byte, so the whole tree under it is what it was.
- A copied item is walked and every regular file re-digested against the digests taken while
  reading the source (and types, modes, owners, times, link targets, hard links, sparseness).
- A rewritten file must hold exactly the rewrite of its saved original.
- A kept entry must still be where it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mevops.migrate.copy import HASH, check_tree
from mevops.migrate.journal import Migration
from mevops.migrate.steps import steps_of


@dataclass
class Check:
    step: int | None
    source: str
    dest: str | None
    status: str        # ok | pending | mismatch | missing
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify(mig: Migration) -> list[Check]:
    from mevops.migrate.rewrite import mapping_for, rewrite_bytes

    state = mig.state()
    plan = mig.plan()
    steps = steps_of(plan)
    rewritten = {s.dst for s in steps if s.op == "rewrite"}
    originals = mig.originals()
    paths = mapping_for(plan)
    out = []
    for s in steps:
        phase = state.of(s.n)
        label = s.item.source if s.op == "move" else f"{s.item.source} (rewrite)"
        if phase != "done":
            out.append(Check(s.n, label, s.item.dest, "pending", f"step is {phase}"))
            continue
        if s.op == "rewrite":
            expected = rewrite_bytes(originals.get(s.n, b""), paths, os.path.dirname(s.src), s.item.kind)
            try:
                with open(s.dst, "rb") as fh:
                    actual = fh.read()
            except OSError as exc:
                out.append(Check(s.n, label, s.item.dest, "missing", exc.strerror or str(exc)))
                continue
            same = actual == (expected if expected is not None else originals.get(s.n))
            out.append(Check(s.n, label, s.item.dest, "ok" if same else "mismatch",
                             "paths rewritten; original kept in the journal" if same else "changed since the rewrite"))
            continue
        rec = state.started(s.n) or {}
        if not os.path.lexists(s.dst):
            out.append(Check(s.n, label, s.item.dest, "missing", f"{s.dst} does not exist"))
            continue
        if os.path.lexists(s.src):
            out.append(Check(s.n, label, s.item.dest, "mismatch", "the source still exists"))
            continue
        if rec.get("kind") == "rename":
            st = os.lstat(s.dst)
            same = [st.st_dev, st.st_ino, st.st_mode & 0o170000] == rec["identity"]
            out.append(Check(s.n, label, s.item.dest, "ok" if same else "mismatch",
                             "same inode, renamed in place" if same else "a different file is at the destination"))
            continue
        stored = mig.manifest(s.n, state) or {}
        if stored.get("hash", HASH) != HASH:
            out.append(Check(s.n, label, s.item.dest, "mismatch", f"digests were taken with {stored['hash']}, this "
                             f"installation has {HASH}: install the `{stored['hash']}` package to verify"))
            continue
        manifest = stored.get("entries", [])
        if s.dst in rewritten:
            manifest = [e for e in manifest if e["rel"] != ""]
        problems = check_tree(s.dst, manifest)
        out.append(Check(s.n, label, s.item.dest, "mismatch" if problems else "ok",
                         "; ".join(problems[:5]) if problems else f"{len(manifest)} entries re-read and digested"))
    for item in plan.items:
        if item.action == "keep":
            there = os.path.lexists(os.path.join(plan.source, item.source))
            out.append(Check(None, item.source, None, "ok" if there else "missing", "kept in place" if there else "gone"))
    return out
