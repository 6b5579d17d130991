"""Inventory a legacy nodes directory: what every entry is, how big, and what makes it hazardous.

The walk is top-down and stops at whole units: a client data directory, an MEV bot, a source
checkout, a log directory move as one entry (their insides are measured, not classified). A
directory that is none of these is a container: its children are classified one by one, and
what nobody recognises is reported as unknown and stays where it is.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.migrate import detect
from mevops.migrate.hazards import Hazard, Users, entry_hazards, external_references, find_users
from mevops.migrate.names import Hints, NameIndex, slug

HAZARD_SAMPLES = 20  # hazards listed per entry and kind; the rest are counted


def file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "chardev"), (stat.S_ISBLK, "blockdev")):
        if test(mode):
            return name
    return "other"


@dataclass
class Entry:
    """One unit of the legacy tree that moves (or stays) as a whole."""

    path: str                      # relative to the source, POSIX
    type: str                      # dir file symlink fifo socket chardev blockdev
    role: str
    kind: str
    why: str
    chain: str | None = None
    client: str | None = None
    network: str | None = None
    node: str = ""                 # slug of the legacy node directory it came from
    part_of: str | None = None     # a piece of this data directory (the directory itself moved in pieces)
    size: int = 0
    disk: int = 0
    files: int = 0
    hazards: list[Hazard] = field(default_factory=list)
    hazard_counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    secret: bool = False
    assumed: list[str] = field(default_factory=list)
    conflict: str | None = None
    linked_from: list[str] = field(default_factory=list)
    deployment: Any = field(default=None, repr=False)

    @property
    def blocked(self) -> list[Hazard]:
        return [h for h in self.hazards if h.blocks]

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("path", "type", "role", "kind", "why", "chain", "client", "network", "node",
                                             "part_of", "size", "disk", "files", "assumed", "conflict", "linked_from")}
        out["hazards"] = [{"kind": h.kind, "path": h.path, "detail": h.detail} for h in self.hazards]
        out["hazard_counts"] = dict(self.hazard_counts)
        out["details"] = {} if self.secret and not self.details.get("variables") else dict(self.details)
        out["secret"] = self.secret
        return out


@dataclass
class Inventory:
    source: str
    entries: list[Entry]
    hazards: list[Hazard] = field(default_factory=list)
    uninspectable: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "entries": [e.as_dict() for e in self.entries],
                "hazards": [{"kind": h.kind, "path": h.path, "detail": h.detail} for h in self.hazards],
                "uninspectable_processes": self.uninspectable,
                "totals": {"entries": len(self.entries), "size": sum(e.size for e in self.entries),
                           "files": sum(e.files for e in self.entries)}}


class Scanner:
    def __init__(self, source: Path, index: NameIndex) -> None:
        self.src = str(source)
        self.index = index
        self.global_hazards: list[Hazard] = []

    # -- classification ----------------------------------------------------------------------------
    def visit(self, rel: str, outer: Hints, node: str) -> list[Entry]:
        path = os.path.join(self.src, rel)
        name = os.path.basename(rel)
        try:
            st = os.lstat(path)
        except OSError as exc:
            return [Entry(rel, "other", "unknown", "unreadable", f"lstat failed: {exc.strerror}")]
        stem = name if stat.S_ISDIR(st.st_mode) else name.split(".", 1)[0] or name
        own = self.index.hints(stem)
        hints = own.over(outer)
        if stat.S_ISLNK(st.st_mode):
            return [self.visit_link(rel, path, hints, node)]
        if not stat.S_ISDIR(st.st_mode):
            ctx = detect.FileCtx(path, name, st, hints, self.index, outer.roles)
            return [self.entry_from(detect.detect_file(ctx), rel, st, hints, node)]
        if own.says_node:
            node = slug(name)
        try:
            names = set(os.listdir(path))
        except OSError as exc:
            return [Entry(rel, "dir", "unknown", "unreadable directory", f"cannot list it: {exc.strerror}", node=node)]
        det = detect.detect_dir(path, names, hints, self.index)
        if det is not None and det.role == "chain-data":
            if "backup" in own.roles:
                det.role, det.kind = "backup", f"backup of a {det.kind}"
            else:
                return self.datadir(rel, path, names, det, hints, node, st)
        if det is not None:
            return [self.entry_from(det, rel, st, hints, node)]
        children = [e for child in sorted(names) for e in self.visit(f"{rel}/{child}" if rel else child, hints, node)]
        if rel and all(c.role == "unknown" for c in children):
            why = "empty directory" if not names else "a directory with nothing recognisable inside"
            return [Entry(rel, "dir", "unknown", "directory", why, node=node)]
        if rel:
            own = entry_hazards(rel, path, st, path, self.src, st.st_dev, Users())
            self.global_hazards += [h for h in own if h.kind != "in-use"]
        return children

    def visit_link(self, rel: str, path: str, hints: Hints, node: str) -> Entry:
        target = os.readlink(path)
        entry = Entry(rel, "symlink", "unknown", "symlink", f"-> {target}: left in place", node=node)
        real = os.path.realpath(path)
        if not os.path.exists(path):
            loop = os.path.lexists(real) and os.path.islink(real)
            entry.kind = "symlink loop" if loop else "dangling symlink"
            entry.why = f"-> {target}: {'a loop' if loop else 'target missing'}; left in place"
        elif os.path.isabs(target) and not (real + "/").startswith(os.path.realpath(self.src) + "/") and os.path.isdir(real):
            try:
                names = set(os.listdir(real))
            except OSError:
                names = set()
            det = detect.detect_dir(real, names, hints, self.index)
            if det is not None and det.role == "chain-data":
                moved = self.entry_from(det, rel, os.lstat(path), hints, node)
                moved.type, moved.why = "symlink", f"link to {target}, which {det.why} (the link moves, the data stays)"
                return moved
            entry.why = f"-> {target} (outside the source): left in place"
        else:
            entry.why = f"-> {target} (an alias inside the source): left in place; it dangles once its target moves"
        return entry

    def datadir(self, rel: str, path: str, names: set[str], det: detect.Detection, hints: Hints, node: str,
                st: os.stat_result) -> list[Entry]:
        """A data directory: one entry, or (when deployment files, logs or other nodes sit inside it) its pieces."""
        det.network = det.network or hints.network
        layout = {m.split("/")[0] for m in detect.markers(self.index, det.chain, det.client)}
        layout |= {s.split("/")[0] for s in self.index.catalog[det.chain].clients[det.client].data_dir.values()}
        pieces: list[str] = []
        others: list[Entry] = []
        inner = Hints(det.chain, det.client, det.network).over(hints)
        for child in sorted(names):
            if child in layout:
                pieces.append(child)
                continue
            found = self.visit(f"{rel}/{child}" if rel else child, inner, node)
            if all(_stays_with_data(e) for e in found):
                pieces.append(child)
            else:
                others += found
        if not others:
            return [self.entry_from(det, rel, st, hints, node)]
        entries = []
        for child in pieces:
            crel = f"{rel}/{child}" if rel else child
            cst = os.lstat(os.path.join(path, child))
            piece = self.entry_from(det, crel, cst, hints, node)
            piece.kind, piece.part_of = f"part of a {det.kind}", rel
            entries.append(piece)
        return entries + others

    def entry_from(self, det: detect.Detection, rel: str, st: os.stat_result, hints: Hints, node: str) -> Entry:
        chain, client, network = det.chain, det.client, det.network
        conflict = None
        if chain and hints.chain and chain != hints.chain and det.role != "chain-data":
            conflict = f"its contents say {chain} but its name or directory says {hints.chain}"
        chain = chain or hints.chain
        if client is None and hints.client and hints.chain == chain:
            client = hints.client
        entry = Entry(rel, file_type(st.st_mode), det.role, det.kind, det.why, chain, client, network or hints.network,
                      node, details=dict(det.details), secret=det.secret, assumed=list(det.assumed), conflict=conflict)
        entry.deployment = det.deployment
        return entry

    # -- measuring -----------------------------------------------------------------------------------
    def measure(self, entry: Entry, users: Users, links: dict[tuple[int, int], list[tuple[str, int]]]) -> None:
        root = os.path.join(self.src, entry.path)
        try:
            parent_dev = os.lstat(os.path.dirname(root)).st_dev
        except OSError:
            parent_dev = -1
        stack = [(entry.path, root, parent_dev)]
        while stack:
            rel, path, pdev = stack.pop()
            try:
                st = os.lstat(path)
            except OSError:
                continue
            for h in entry_hazards(rel, path, st, root, self.src, pdev, users):
                if h.kind == "symlink" and "inside the item" in h.detail:
                    continue
                n = entry.hazard_counts.get(h.kind, 0)
                entry.hazard_counts[h.kind] = n + 1
                if n < HAZARD_SAMPLES or h.blocks:
                    entry.hazards.append(h)
            entry.disk += st.st_blocks * 512
            if stat.S_ISDIR(st.st_mode):
                if st.st_dev != pdev and rel != entry.path:
                    continue
                try:
                    with os.scandir(path) as it:
                        stack += [(f"{rel}/{d.name}", d.path, st.st_dev) for d in it]
                except OSError:
                    pass
                continue
            entry.files += 1
            if stat.S_ISREG(st.st_mode):
                entry.size += st.st_size
                if st.st_nlink > 1:
                    links.setdefault((st.st_dev, st.st_ino), []).append((rel, st.st_nlink))


def _stays_with_data(entry: Entry) -> bool:
    """Inside a data directory, configs, node keys, sockets and unknowns belong to the node's data."""
    return entry.role == "unknown" or entry.type in ("socket", "fifo") \
        or entry.kind in ("p2p node key", "key directory", "encrypted keystore") \
        or (entry.role == "config" and entry.kind == "config file")


def link_report(entries: list[Entry], links: dict[tuple[int, int], list[tuple[str, int]]]) -> list[Hazard]:
    """Hard links that cross entries or leave the source: a copy cannot keep those shared."""
    owner = {}
    for e in entries:
        owner[e.path] = e
    out = []
    for names in links.values():
        rels = [r for r, _ in names]
        tops = {next((p for p in owner if r == p or r.startswith(p + "/")), r) for r in rels}
        if names[0][1] > len(names):
            out.append(Hazard("hardlink-outside", rels[0], f"{names[0][1]} links, {len(names)} inside the source: "
                              "a cross-filesystem move copies it"))
        elif len(tops) > 1:
            out.append(Hazard("hardlink", rels[0], f"shared with {', '.join(sorted(r for r in rels[1:]))} (another entry)"))
    return out


def load_index(workspace: str | None = None) -> NameIndex:
    """Alias tables from the workspace's catalog, or the shipped one outside a workspace."""
    from mevops.catalog import load_catalog
    from mevops.errors import MevopsError
    from mevops.reference import reference_root

    chains_dir = reference_root() / "chains"
    try:
        from mevops.workspace import find_workspace

        ws = find_workspace(workspace)
        if (ws / "chains").is_dir():
            chains_dir = ws / "chains"
    except MevopsError:
        if workspace:
            raise
    return NameIndex.build(load_catalog(chains_dir))


def check_source(source: str | os.PathLike[str]) -> Path:
    from mevops.errors import MevopsError, Problem

    src = Path(source).expanduser().absolute()
    if not src.exists():
        raise MevopsError(Problem(str(source), None, "SRC", "does not exist"))
    if not src.is_dir():
        raise MevopsError(Problem(str(source), None, "SRC", "is not a directory"))
    if not os.access(src, os.R_OK | os.X_OK):
        raise MevopsError(Problem(str(source), None, "SRC", "cannot be read by this user"))
    return src


def scan(source: str | os.PathLike[str], index: NameIndex) -> Inventory:
    from mevops.migrate.links import refine

    src = check_source(source)
    scanner = Scanner(src, index)
    entries = scanner.visit("", Hints(), "")
    refine(entries, str(src), index)
    users = find_users([os.path.realpath(src)]).rebase(os.path.realpath(src), str(src))
    links: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for entry in entries:
        scanner.measure(entry, users, links)
    hazards = scanner.global_hazards + link_report(entries, links) + external_references(str(src))
    return Inventory(str(src), entries, hazards, users.uninspectable)
