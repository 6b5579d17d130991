"""The record of what render wrote: path → hash, plus the last rendered bytes (the merge base).

Kept under ``<root>/.mevops/``: ``manifest.json`` and ``base.pack`` (the last rendered bytes of
every file in one file rather than one copy per rendered file: a full render writes it once; a
JSON index line ``{path: [offset, length]}`` then the bytes, so reading it costs no parsing). The base
copies let a later render merge 3-way (last rendered ↔ user's file ↔ new render). A ``base/<path>``
tree left by an older mevops is still read, and replaced by the pack on the next save.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

STATE_DIR = ".mevops"
VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.mevops-tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(tmp, flags, mode)
    except FileNotFoundError:  # parents made only when missing: one syscall per file, not one per level
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            os.fchmod(fd, mode)  # the umask narrowed the mode given to open
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_new(path: Path, data: bytes, mode: int = 0o644) -> None:
    """A file in a root rendered for the first time, written in place: no temporary file and
    rename (half the directory updates). A crash meanwhile leaves what it leaves during any first
    render, files no manifest records yet (the manifest is written last), which the next render
    reports and ``--force`` replaces. Should the file exist after all, it is written atomically."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        write_atomic(path, data, mode)
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            os.fchmod(fd, mode)  # the umask narrowed the mode given to open
    except BaseException:
        path.unlink(missing_ok=True)
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
    _bases: dict[str, bytes] | None = field(default=None, repr=False)  # loaded on first use
    _bases_dirty: bool = field(default=False, repr=False)

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
        if self._bases_dirty:
            self._save_bases()
        try:
            if path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        write_atomic(path, data)
        return True

    # -- merge bases ------------------------------------------------------------------------------
    def _load_bases(self) -> dict[str, bytes]:
        if self._bases is None:
            pack = self.state / "base.pack"
            try:
                raw = pack.read_bytes()
                head, _, blob = raw.partition(b"\n")
                index = json.loads(head)
                self._bases = {rel: blob[start:start + size] for rel, (start, size) in index.items()}
                if any(len(v) != index[k][1] for k, v in self._bases.items()):
                    raise ValueError("truncated")
            except FileNotFoundError:
                self._bases = {}
                legacy = self.state / "base"
                for rel in self.files if legacy.is_dir() else ():
                    try:
                        self._bases[rel] = (legacy / rel).read_bytes()
                    except (FileNotFoundError, NotADirectoryError):
                        pass
                self._bases_dirty = legacy.is_dir()
            except (OSError, ValueError, TypeError) as exc:
                from mevops.errors import MevopsError, Problem

                raise MevopsError(Problem(str(pack), None, "", f"unreadable merge bases ({exc}); move it away to start over")) from None
        return self._bases

    def _save_bases(self) -> None:
        index, chunks, offset = {}, [], 0
        for rel, data in sorted(self._load_bases().items()):
            if rel in self.files:
                index[rel] = [offset, len(data)]
                chunks.append(data)
                offset += len(data)
        write_atomic(self.state / "base.pack", json.dumps(index, separators=(",", ":")).encode() + b"\n" + b"".join(chunks))
        shutil.rmtree(self.state / "base", ignore_errors=True)
        self._bases_dirty = False

    def base(self, rel: str) -> bytes | None:
        return self._load_bases().get(rel)

    def set_base(self, rel: str, data: bytes) -> None:
        bases = self._load_bases()
        if bases.get(rel) != data:
            bases[rel] = data
            self._bases_dirty = True

    def drop(self, rel: str) -> None:
        self.files.pop(rel, None)
        if self._load_bases().pop(rel, None) is not None:
            self._bases_dirty = True


def file_stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [st.st_size, st.st_mtime_ns]
