"""The record of what render wrote: path → hash, plus the last rendered bytes (the merge base).

Kept under ``<root>/.mevops/``: ``manifest.json`` and ``base/<path>``. The base copies let a
later render merge 3-way (last rendered ↔ user's file ↔ new render).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

STATE_DIR = ".mevops"
VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.mevops-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class Entry:
    sha256: str
    chain: str | None = None
    network: str | None = None
    conflict: bool = False
    stat: list[int] | None = None  # [size, mtime_ns] after the last render, for the no-change fast path


@dataclass
class Manifest:
    root: Path
    files: dict[str, Entry] = field(default_factory=dict)
    inputs: str | None = None          # fingerprint of everything the last full render read
    layout: list[str] = field(default_factory=list)  # directories and secrets it ensured

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @classmethod
    def load(cls, root: Path) -> "Manifest":
        path = root / STATE_DIR / "manifest.json"
        manifest = cls(root)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return manifest
        except (OSError, ValueError) as exc:
            from mevops.errors import MevopsError, Problem

            raise MevopsError(Problem(str(path), None, "", f"unreadable render manifest ({exc}); move it away to start over")) from None
        for rel, entry in data.get("files", {}).items():
            manifest.files[rel] = Entry(**entry)
        manifest.inputs = data.get("inputs")
        manifest.layout = list(data.get("layout", []))
        return manifest

    def serialise(self) -> bytes:
        files = {rel: {k: v for k, v in vars(e).items() if v not in (None, False)} for rel, e in sorted(self.files.items())}
        doc = {"version": VERSION, "inputs": self.inputs, "layout": self.layout, "files": files}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    def save(self) -> bool:
        path = self.state / "manifest.json"
        data = self.serialise()
        try:
            if path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        write_atomic(path, data)
        return True

    def base(self, rel: str) -> bytes | None:
        try:
            return (self.state / "base" / rel).read_bytes()
        except FileNotFoundError:
            return None

    def set_base(self, rel: str, data: bytes) -> None:
        path = self.state / "base" / rel
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        write_atomic(path, data)

    def drop(self, rel: str) -> None:
        self.files.pop(rel, None)
        (self.state / "base" / rel).unlink(missing_ok=True)


def file_stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [st.st_size, st.st_mtime_ns]
