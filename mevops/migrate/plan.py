"""The migration plan: a reviewable, editable YAML file mapping each source entry to its
destination in the standardized tree. Loading it checks everything again, with positions, so
an edited plan's mistakes read ``plan.yml:LINE: items[3].dest: reason``."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import stat
import time
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, model_validator

from mevops.config.types import Strict
from mevops.errors import MevopsError, Problem
from mevops.migrate.layout import JUNK_DIR, destination, resolve_collisions

EntryType = Literal["dir", "file", "symlink", "fifo", "socket", "chardev", "blockdev", "other"]
TYPE_TESTS = {"dir": stat.S_ISDIR, "file": stat.S_ISREG, "symlink": stat.S_ISLNK, "fifo": stat.S_ISFIFO,
              "socket": stat.S_ISSOCK, "chardev": stat.S_ISCHR, "blockdev": stat.S_ISBLK}


class PlanItem(Strict):
    source: str
    action: Literal["move", "keep"]
    dest: str | None = None
    role: str = "unknown"
    kind: str = ""
    chain: str | None = None
    client: str | None = None
    network: str | None = None
    type: EntryType = "file"
    size: int = 0
    files: int = 0
    rewrite: bool = False
    why: str = ""
    hazards: list[str] = []
    note: str | None = None

    @model_validator(mode="after")
    def _dest_for_moves(self) -> "PlanItem":
        if self.action == "move" and not self.dest:
            raise ValueError("action: move needs a dest")
        return self


class Plan(Strict):
    version: Literal[1]
    source: str
    root: str
    created: str = ""
    items: list[PlanItem]

    @property
    def moves(self) -> list[PlanItem]:
        return [i for i in self.items if i.action == "move"]

    @property
    def plan_id(self) -> str:
        """Identity of what the plan does (comments, notes and sizes do not count)."""
        core = [self.source, self.root, [(i.source, i.dest, i.rewrite, i.type) for i in self.moves]]
        return hashlib.blake2b(json.dumps(core).encode(), digest_size=8).hexdigest()


# -- building ---------------------------------------------------------------------------------------
def build_plan(inventory, root: Path) -> Plan:  # noqa: ANN001 - scan.Inventory
    from mevops.migrate.rewrite import mapping_for, wants_rewrite

    rows = []
    for e in inventory.entries:
        dest, why_not = destination(e)
        notes = []
        if e.conflict:
            notes.append(f"conflict: {e.conflict}")
            dest = None
        if e.assumed:
            notes.append("assumed " + ", ".join(f"{a} {getattr(e, a)}" for a in e.assumed) + " (nothing names it): check")
        if dest is None and why_not:
            notes.append(why_not)
        blocking = [h for h in e.hazards if h.blocks and h.kind == "mount-point"]
        if blocking and dest:
            notes.append(f"refused: {blocking[0]}")
            dest = None
        hazards = [f"{k} x{n}" for k, n in sorted(e.hazard_counts.items()) if k not in ("symlink",)]
        rows.append({"source": e.path, "action": "move" if dest else "keep", "dest": dest, "role": e.role, "kind": e.kind,
                     "chain": e.chain, "client": e.client, "network": e.network, "type": e.type, "size": e.size,
                     "files": e.files, "rewrite": False, "why": e.why, "hazards": hazards,
                     "note": "; ".join(notes) or None, "assumed": e.assumed})
    resolve_collisions(rows, str(root))
    plan = Plan(version=1, source=inventory.source, root=str(root), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                items=[PlanItem(**{k: v for k, v in r.items() if k != "assumed"}) for r in rows])
    paths = mapping_for(plan)
    for item in plan.moves:
        if item.type == "file" and item.role in ("deployment", "config"):
            old_dir = posixpath.dirname(os.path.join(plan.source, item.source))
            item.rewrite = wants_rewrite(item.role, item.kind, os.path.join(plan.source, item.source), paths, old_dir)
    return plan


# -- writing ----------------------------------------------------------------------------------------
HEADER = """\
# mevops migration plan. Review it, edit it, then run: mevops migrate apply {plan_file}
#
# Every entry of the source is listed once. `action: move` moves it to `dest` (relative to `root`);
# `action: keep` leaves it where it is. Change `dest` or `action` freely: apply checks the plan again
# and refuses an inconsistent one (two sources to one destination, a destination inside the source,
# overlapping sources) before touching anything. `rewrite: true` fixes paths inside the file after
# the move (the original is kept in the journal). Entries with a `note` need a human look.
#
# {summary}
"""


def summary(plan: Plan) -> str:
    moves = plan.moves
    keeps = [i for i in plan.items if i.action == "keep"]
    unknown = sum(1 for i in keeps if i.role == "unknown")
    conflicts = sum(1 for i in plan.items if i.note and "conflict" in i.note)
    assumed = sum(1 for i in plan.items if i.note and "assumed" in i.note)
    size = sum(i.size for i in moves)
    return (f"{len(plan.items)} entries: {len(moves)} to move ({human_bytes(size)}), {len(keeps)} kept "
            f"({unknown} unknown, {len(keeps) - unknown} unresolved); {conflicts} conflicts, {assumed} assumptions to check; "
            f"{sum(1 for i in moves if i.rewrite)} files to rewrite")


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def dump_plan(plan: Plan, plan_file: str = "plan.yml") -> str:
    lines = [HEADER.format(plan_file=plan_file, summary=summary(plan)).rstrip("\n"),
             f"version: {plan.version}", f"source: {_scalar(plan.source)}", f"root: {_scalar(plan.root)}",
             f"created: {_scalar(plan.created)}", "items:"]
    for item in plan.items:
        data = item.model_dump()
        lines.append(f"  - source: {_scalar(data.pop('source'))}")
        for key, value in data.items():
            if key == "hazards":
                lines.append(f"    hazards: [{', '.join(_scalar(h) for h in value)}]")
            elif key in ("chain", "client", "network", "note", "kind", "why") and value in (None, ""):
                continue
            else:
                lines.append(f"    {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


# -- loading and checking -----------------------------------------------------------------------------
def load_plan(path: str | os.PathLike[str], *, fresh: bool = True) -> Plan:
    """Load and check a plan file. ``fresh``: the plan is about to be applied from scratch, so every
    source must exist as planned and every destination must be free."""
    from mevops.config.problems import validation_problems
    from mevops.config.yamlsafe import load_yaml

    doc = load_yaml(path)
    try:
        plan = Plan.model_validate(doc.data)
    except ValidationError as exc:
        raise MevopsError(validation_problems(exc, lambda p: (doc.file, doc.line_of(p)))) from None
    problems = check_plan(plan, lambda p, why: doc.problem(p, why), fresh=fresh)
    if problems:
        raise MevopsError(problems)
    return plan


def _bad_relative(path: str) -> str | None:
    if not path or path in (".", "/"):
        return "must name an entry (a relative path)"
    if path.startswith("/"):
        return "must be relative (not an absolute path)"
    if "\x00" in path:
        return "contains a NUL byte"
    parts = path.split("/")
    if ".." in parts or "." in parts or "" in parts:
        return "must be a normalized relative path (no '..', '.', '//' or trailing '/')"
    return None


def check_plan(plan: Plan, problem, *, fresh: bool) -> list[Problem]:  # noqa: ANN001
    out: list[Problem] = []
    src, root = plan.source.rstrip("/") or "/", plan.root.rstrip("/") or "/"
    if not os.path.isabs(src):
        out.append(problem(("source",), "must be an absolute path"))
    elif not os.path.isdir(src):
        out.append(problem(("source",), "does not exist (or is not a directory)"))
    if not os.path.isabs(root):
        out.append(problem(("root",), "must be an absolute path"))
    real_src, real_root = os.path.realpath(src), os.path.realpath(root)
    if real_root == real_src or real_root.startswith(real_src.rstrip("/") + "/"):
        out.append(problem(("root",), f"is inside the source {src}: choose a root outside it"))
    if out:
        return out
    sources: dict[str, int] = {}
    dests: dict[str, int] = {}
    for i, item in enumerate(plan.items):
        bad = _bad_relative(item.source)
        if bad:
            out.append(problem(("items", i, "source"), bad))
            continue
        if item.source in sources:
            out.append(problem(("items", i, "source"), f"listed twice (also items[{sources[item.source]}])"))
        sources.setdefault(item.source, i)
        if item.action != "move":
            continue
        dest = item.dest or ""
        bad = _bad_relative(dest)
        if bad:
            out.append(problem(("items", i, "dest"), bad))
            continue
        if (dest == ".mevops" or dest.startswith(".mevops/")) and not dest.startswith(JUNK_DIR + "/"):
            out.append(problem(("items", i, "dest"), ".mevops/ is reserved for mevops' own state"))
        full = os.path.join(real_root, dest)  # normalized and relative: only the root can be a link
        if full == real_src or full.startswith(real_src + "/") or real_src.startswith(full + "/"):
            out.append(problem(("items", i, "dest"), f"{os.path.join(root, dest)} is inside (or holds) the source {src}"))
        if dest in dests:
            out.append(problem(("items", i, "dest"), f"two sources to one destination: also items[{dests[dest]}] "
                                                    f"({plan.items[dests[dest]].source})"))
        dests.setdefault(dest, i)
        if fresh:
            out += _check_on_disk(plan, i, item, problem)
    out += _nesting(plan, sources, "source", "inside another source", problem)
    out += _nesting(plan, dests, "dest", "inside the destination of another item", problem)
    return out


def _nesting(plan: Plan, seen: dict[str, int], key: str, what: str, problem) -> list[Problem]:  # noqa: ANN001
    out = []
    for path, i in seen.items():
        parts = path.split("/")
        for n in range(1, len(parts)):
            parent = "/".join(parts[:n])
            if parent in seen:
                j = seen[parent]
                out.append(problem(("items", i, key), f"{what}: items[{j}] ({getattr(plan.items[j], key)})"))
                break
    return out


def _check_on_disk(plan: Plan, i: int, item: PlanItem, problem) -> list[Problem]:  # noqa: ANN001
    src = os.path.join(plan.source, item.source)
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return [problem(("items", i, "source"), f"{src} does not exist (moved or deleted since the plan was made?)")]
    except OSError as exc:
        return [problem(("items", i, "source"), f"{src}: {exc.strerror}")]
    test = TYPE_TESTS.get(item.type)
    if test is not None and not test(st.st_mode):
        return [problem(("items", i, "type"),
                        f"the plan says {item.type} but {src} is not one (changed since the plan was made?)")]
    dest = os.path.join(plan.root, item.dest or "")
    parent = os.path.dirname(dest)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return [problem(("items", i, "dest"), f"{parent} is in the way: not a directory")]
    empty_dir = item.type == "dir" and os.path.isdir(dest) and not os.path.islink(dest) and not os.listdir(dest)
    if os.path.lexists(dest) and not empty_dir:
        return [problem(("items", i, "dest"), f"{dest} already exists")]
    return []
