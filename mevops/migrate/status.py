"""Where a migration stands: which steps are done, which one was interrupted, what comes next."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.migrate.journal import STATE_DIR, Migration, recall
from mevops.migrate.steps import steps_of


def find_migration(root: str | None, *, allow_history: bool = False) -> Migration:
    """The migration at ``root`` (or the last root mevops migrated into)."""
    chosen = root or os.environ.get("MEVOPS_ROOT") or recall()
    if not chosen:
        raise MevopsError(Problem("--root", None, "", "no migration found: pass --root DEST (the root a plan was applied to)"))
    mig = Migration.find(chosen)
    if mig is None and allow_history:
        history = Path(chosen) / STATE_DIR / "history"
        done = sorted(history.iterdir()) if history.is_dir() else []
        if done:
            return Migration(done[-1])
    if mig is None:
        raise MevopsError(Problem(str(chosen), None, "", f"no migration journal under {Path(chosen) / STATE_DIR}"))
    return mig


def status(mig: Migration) -> dict[str, Any]:
    state = mig.state()
    plan = mig.plan()
    steps = steps_of(plan)
    counts = Counter(state.of(s.n) for s in steps)
    if state.rolled_back:
        where = "rolled back"
    elif state.rollback:
        where = "rollback interrupted: run `mevops migrate rollback` again"
    elif state.complete:
        where = "complete"
    elif counts.get("failed"):
        where = "failed: fix the cause, then `mevops migrate resume`"
    else:
        where = "interrupted: run `mevops migrate resume`" if any(c != "planned" for c in counts) or steps else "not started"
    rows = []
    for s in steps:
        phase = state.of(s.n)
        rec = state.started(s.n) or {}
        err = state.steps[s.n].error if s.n in state.steps else None
        rows.append({"step": s.n, "op": s.op if s.op == "rewrite" else rec.get("kind", "move"), "state": phase,
                     "source": s.item.source, "dest": s.item.dest, "size": s.item.size, "error": err})
    return {"journal": str(mig.dir), "plan_id": state.plan_id, "source": plan.source, "root": plan.root, "state": where,
            "counts": dict(counts), "steps": rows, "moves": len(plan.moves),
            "kept": sum(1 for i in plan.items if i.action == "keep"),
            "stopped": [{k: r.get(k) for k in ("t", "what", "how", "pids", "killed", "seconds")} for r in state.stopped]}
