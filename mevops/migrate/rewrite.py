"""Rewrite paths inside moved compose files, units, scripts and configs to the new locations.

Absolute paths under the source (spelled as given, or resolved) that fall inside a moved item
become the item's new path. In compose files, relative host paths (``./data:/data``,
``env_file: .env``) are resolved against the file's old directory and written out absolute,
since the file no longer sits beside them. The rewrite is a pure function of the original
bytes and the plan, so apply, resume and verify all compute the same result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mevops.migrate.plan import Plan

MAX_REWRITE = 1 << 20
REWRITE_ROLES = ("deployment", "config")
_BOUND_BEFORE = r"(?<![\w./-])"
_CONTINUES = re.compile(r"[\w.-]")


@dataclass
class PathMap:
    """Old absolute path → new absolute path, for every moved item (longest first)."""

    pairs: list[tuple[str, str]]
    prefixes: tuple[str, ...]       # the source as given and resolved

    def map(self, path: str) -> str | None:
        for old, new in self.pairs:
            if path == old:
                return new
            if path.startswith(old + "/"):
                return new + path[len(old):]
        return None

    def replace_all(self, text: str) -> str:
        """Every old path in ``text`` (at path boundaries) replaced by its new path."""
        if not self.pairs or not any(p in text for p in self.prefixes):
            return text
        starts = re.compile(_BOUND_BEFORE + "(?:" + "|".join(re.escape(p) for p in self.prefixes) + ")/")
        out, pos = [], 0
        for m in starts.finditer(text):
            if m.start() < pos:
                continue
            for old, new in self.pairs:
                end = m.start() + len(old)
                if text.startswith(old, m.start()) and not _CONTINUES.match(text, end):
                    out += [text[pos:m.start()], new]
                    pos = end
                    break
        return "".join(out) + text[pos:]


def mapping_for(plan: "Plan") -> PathMap:
    source = plan.source.rstrip("/")
    prefixes = tuple(dict.fromkeys((source, os.path.realpath(source))))
    moved = {item.source: item.dest for item in plan.items if item.action == "move" and item.dest}
    moved.update(_split_data_dirs(plan, moved))
    pairs = [(f"{prefix}/{source}", os.path.join(plan.root, dest)) for source, dest in moved.items() for prefix in prefixes]
    pairs.sort(key=lambda p: len(p[0]), reverse=True)
    return PathMap(pairs, prefixes)


def _split_data_dirs(plan: "Plan", moved: dict[str, str]) -> dict[str, str]:
    """A data directory moved in pieces (``avax/db`` → ``.../avalanchego/db``...) maps as a whole
    (``avax`` → ``.../avalanchego``), so ``--datadir avax`` follows its data."""
    parents: dict[str, set[str]] = {}
    for item in plan.items:
        if item.action == "move" and item.role == "chain-data" and "/" in item.source and item.dest:
            parent, name = item.source.rsplit("/", 1)
            dest_parent, dest_name = item.dest.rsplit("/", 1) if "/" in item.dest else ("", item.dest)
            parents.setdefault(parent, set()).add(dest_parent if dest_name == name else "\0")
    return {p: next(iter(d)) for p, d in parents.items() if len(d) == 1 and "\0" not in d and p not in moved}


def decode(data: bytes) -> str | None:
    if len(data) > MAX_REWRITE or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _compose_relative(text: str, old_dir: str, paths: PathMap) -> str:
    from mevops.migrate.contents import Deployment, compose
    from mevops.migrate.names import NameIndex

    dep: Deployment = compose(text, NameIndex(), os.path.join(old_dir, "compose"))
    relative = sorted({p for p in dep.host_paths if not p.startswith(("/", "~"))}, key=len, reverse=True)
    for rel in relative:
        old = os.path.normpath(os.path.join(old_dir, rel))
        new = paths.map(old) or old
        token = re.compile(r"(?<=[\s\"'\[,])" + re.escape(rel) + r"(?=[\s\"':,\]]|$)", re.MULTILINE)
        text = token.sub(lambda _m, new=new: new, text)
    return text


def rewrite_text(text: str, paths: PathMap, old_dir: str, kind: str) -> str:
    """The text with old paths replaced by new ones (``kind`` 'compose' also fixes relative host paths)."""
    if kind == "compose":
        text = _compose_relative(text, old_dir, paths)
    return paths.replace_all(text)


def rewrite_bytes(data: bytes, paths: PathMap, old_dir: str, kind: str) -> bytes | None:
    """The rewritten bytes, or None when the file is not small UTF-8 text (left untouched)."""
    text = decode(data)
    if text is None:
        return None
    return rewrite_text(text, paths, old_dir, kind).encode("utf-8")


def wants_rewrite(role: str, kind: str, path: str, paths: PathMap, old_dir: str) -> bool:
    """Would rewriting change this file? (decided at plan time, shown in the plan)."""
    if role not in REWRITE_ROLES:
        return False
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_REWRITE + 1)
    except OSError:
        return False
    new = rewrite_bytes(data, paths, old_dir, kind)
    return new is not None and new != data
