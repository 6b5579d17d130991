"""Bring the target root in line with the plan: idempotent writes, 3-way merges of user edits,
no resurrection of deleted files, removal of stale files only when unedited."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.render.manifest import Entry, Manifest, sha256, write_atomic, write_new

if TYPE_CHECKING:
    from mevops.render.context import RenderContext
    from mevops.render.plan import PlannedFile

WRITES = ("create", "update", "merge", "conflict", "overwrite")
DRIFT = (*WRITES, "remove")
MARKERS = (b"<<<<<<< ", b"=======", b">>>>>>> ")


@dataclass
class Action:
    path: str
    kind: str
    note: str = ""
    disk: bytes | None = None
    result: bytes | None = None
    planned: "PlannedFile | None" = None


@dataclass
class Outcome:
    actions: list[Action] = field(default_factory=list)
    cached: bool = False  # nothing read or rendered: inputs and outputs are as the last render left them
    created: list[str] = field(default_factory=list)  # directories and secrets

    def of(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    @property
    def drift(self) -> bool:
        return bool(self.of(*DRIFT)) or bool(self.created)

    @property
    def conflicts(self) -> list[Action]:
        return self.of("conflict")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _has_markers(data: bytes) -> bool:
    lines = data.splitlines()
    return any(line.startswith(MARKERS[0]) for line in lines) and any(line.startswith(MARKERS[2]) for line in lines)


def _merge3(base: bytes, mine: bytes, theirs: bytes) -> tuple[bytes, bool]:
    import merge3

    m = merge3.Merge3(base.splitlines(True), mine.splitlines(True), theirs.splitlines(True))
    merged = b"".join(m.merge_lines(name_a=b"your edit", name_b=b"mevops render", start_marker=b"<<<<<<<",
                                    mid_marker=b"=======", end_marker=b">>>>>>>"))
    conflicted = any(kind == "conflict" for kind, *_ in m.merge_regions())
    return merged, conflicted


def decide(root: Path, manifest: Manifest, planned: "list[PlannedFile]", *, force: bool,
           in_scope=lambda chain, network: True) -> list[Action]:  # noqa: ANN001
    actions: list[Action] = []
    wanted = {f.path: f for f in planned if in_scope(f.chain, f.network)}
    every = {f.path for f in planned}
    fresh = not root.exists()  # a first render into a new root: nothing on disk to read
    for rel, f in wanted.items():
        actions.append(_decide_one(root, manifest, rel, f, force, fresh))
    for rel, entry in sorted(manifest.files.items()):
        if rel in every or not in_scope(entry.chain, entry.network):
            continue
        disk = _read(root / rel)
        if disk is None:
            actions.append(Action(rel, "forget", "no longer rendered and already gone"))
        elif sha256(disk) == entry.sha256 or force:
            actions.append(Action(rel, "remove", "no longer rendered", disk=disk))
        else:
            actions.append(Action(rel, "orphan", "no longer rendered; kept because you edited it", disk=disk))
    return actions


def _decide_one(root: Path, manifest: Manifest, rel: str, f: "PlannedFile", force: bool, fresh: bool = False) -> Action:
    new = f.content
    disk = None if fresh else _read(root / rel)
    entry = manifest.files.get(rel)
    if disk is None:
        if entry is not None and not force:
            return Action(rel, "deleted", "you deleted it; not resurrected (use --force)", planned=f)
        return Action(rel, "create", result=new, planned=f)
    if disk == new:
        return Action(rel, "unchanged", disk=disk, planned=f)
    if force:
        return Action(rel, "overwrite", disk=disk, result=new, planned=f)
    if entry is None:
        return Action(rel, "conflict", "exists but was not rendered by mevops; not overwritten (use --force)", disk=disk, planned=f)
    if entry.conflict and _has_markers(disk):
        return Action(rel, "conflict", "unresolved conflict markers from an earlier render", disk=disk, planned=f)
    if sha256(disk) == entry.sha256:
        return Action(rel, "update", disk=disk, result=new, planned=f)
    base = manifest.base(rel)
    if base == new:
        return Action(rel, "kept", "your edits kept (template output unchanged)", disk=disk, planned=f)
    if base is None:
        return Action(rel, "conflict", "edited, and the merge base is missing; not overwritten (use --force)", disk=disk, planned=f)
    merged, conflicted = _merge3(base, disk, new)
    if conflicted:
        return Action(rel, "conflict", "your edit and the new render change the same lines: resolve the markers",
                      disk=disk, result=merged, planned=f)
    return Action(rel, "merge", "your edits merged with the new render", disk=disk, result=merged, planned=f)


def make_dirs(root: Path, wanted: dict[str, int]) -> None:
    """Create ``root``-relative directories (``wanted``: path → mode) and their missing parents
    (default mode): one mkdir per directory, parents first, none per file written."""
    todo = dict(wanted)
    for rel in wanted:
        parent = os.path.dirname(rel)
        while parent and parent not in todo:
            todo[parent] = 0o777
            parent = os.path.dirname(parent)
    if todo:
        root.mkdir(parents=True, exist_ok=True)
    for rel in sorted(todo):  # a parent sorts before its children
        try:
            os.mkdir(root / rel, todo[rel])
        except FileExistsError:
            pass


def execute(root: Path, manifest: Manifest, actions: list[Action], *, fresh: bool = False) -> None:
    """Carry the actions out; ``fresh``: the root did not exist before this render (new files are
    written in place, ``write_new``)."""
    parents = {os.path.dirname(a.path) for a in actions if a.kind in WRITES and a.result is not None}
    make_dirs(root, dict.fromkeys(sorted(parents - {""}), 0o777))
    for a in actions:
        f = a.planned
        if a.kind in WRITES and a.result is not None:
            write = write_new if fresh and a.kind == "create" else write_atomic
            write(root / a.path, a.result, f.mode if f else 0o644)
        if f is not None and a.kind in (*WRITES, "unchanged", "kept"):
            if a.kind == "conflict" and a.result is None:
                continue  # untouched foreign file or unresolved markers: nothing recorded
            current = manifest.files.get(a.path)
            if a.kind in ("unchanged", "kept") and current is not None and current.sha256 == sha256(f.content) and not (
                    current.conflict and a.kind == "unchanged"):
                continue
            manifest.files[a.path] = Entry(sha256(f.content), f.chain, f.network, conflict=a.kind == "conflict")
            manifest.set_base(a.path, f.content)
        elif a.kind == "remove":
            (root / a.path).unlink(missing_ok=True)
            manifest.drop(a.path)
        elif a.kind in ("orphan", "forget"):
            manifest.drop(a.path)


# -- directories and secrets ------------------------------------------------------------------
def layout_dirs(ctx: "RenderContext") -> list[tuple[Path, int]]:
    root = Path(ctx.root)
    dirs: list[tuple[Path, int]] = []
    for chain in ctx.chains:
        base = Path(chain.dir)
        for sub in ("source", "binaries", "logs/application", "logs/system", "logs/audit"):
            dirs.append((base / sub, 0o755))
        for network in chain.networks:
            dirs.append((Path(network.data_dir), 0o750))
            dirs += [(Path(c.data_dir), 0o750) for c in network.clients]
            if network.jwt_path:
                dirs.append((Path(network.jwt_path).parent, 0o700))
    dirs += [(root / "mev" / "data", 0o750), (root / "mev" / "research", 0o755), (root / "nodes" / "config", 0o755)]
    return dirs


def jwt_paths(ctx: "RenderContext") -> list[Path]:
    return [Path(n.jwt_path) for c in ctx.chains for n in c.networks if n.jwt_path]


def ensure_layout(ctx: "RenderContext", *, dry_run: bool) -> list[str]:
    """Create missing directories and JWT secrets; never empties or regenerates anything."""
    created = []
    root = Path(ctx.root)
    missing: dict[str, int] = {}
    for path, mode in layout_dirs(ctx):
        if not path.is_dir() and str(path.relative_to(root)) not in missing:
            created.append(f"{path}/")
            missing[str(path.relative_to(root))] = mode
    if not dry_run:
        make_dirs(root, missing)
    for path in jwt_paths(ctx):
        if not path.exists():
            created.append(f"{path} (new JWT secret, 0600)")
            if not dry_run:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32) + "\n")
    return created
