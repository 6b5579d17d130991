"""Backup and restore of a node's data directories.

backup: stop the node if it runs (the process backend's anvil dumps its state on SIGTERM) →
archive every client's data dir (tar + gzip) with a checksum manifest → restart → retention.
restore: verify the archive and every file against its manifest first, extract beside the
current data, swap only on success (the old data is kept as ``<dir>.pre-restore-<ts>``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from mevops.errors import CheckFailed, MevopsError, Problem
from mevops.lifecycle.base import Node

MANIFEST = "MEVOPS-BACKUP.json"


@dataclass
class BackupResult:
    archive: Path
    files: int
    bytes: int
    sha256: str
    removed: list[Path]


def backup_dir(node: Node) -> Path:
    return Path(node.chain.dir) / "backups" / node.network.key


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(node: Node, backend, keep: int = 7) -> BackupResult:  # noqa: ANN001
    was_running = any(s.state == "running" for s in backend.status(node))
    if was_running:
        backend.down(node)
    try:
        target_dir = backup_dir(node)
        target_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        archive = target_dir / f"{node.chain.name}-{node.network.key}-{stamp}.tar.gz"
        entries, total = {}, 0
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for client in node.services:
                data = Path(client.data_dir)
                for path in sorted(data.rglob("*")) if data.is_dir() else []:
                    if path.is_file() and not path.is_symlink() and path.name not in ("mevops.pid",):
                        rel = f"{client.name}/{path.relative_to(data).as_posix()}"
                        entries[rel] = {"sha256": _sha256_file(path), "size": path.stat().st_size}
                        total += path.stat().st_size
                        tar.add(path, arcname=rel, recursive=False)
            manifest = json.dumps({"chain": node.chain.name, "network": node.network.key, "created": stamp,
                                   "files": entries}, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(manifest)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(manifest))
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        partial.replace(archive)
        digest = _sha256_file(archive)
        archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
    finally:
        if was_running:
            backend.up(node)
    removed = _retain(backup_dir(node), keep)
    return BackupResult(archive, len(entries), total, digest, removed)


def _retain(directory: Path, keep: int) -> list[Path]:
    archives = sorted(directory.glob("*.tar.gz"))
    removed = archives[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink()
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)
    return removed


def verify_archive(archive: Path) -> dict:
    """Check the archive's own checksum and every member against the manifest; return the manifest."""
    if not archive.is_file():
        raise MevopsError(Problem(str(archive), None, "", "backup archive not found"))
    sidecar = archive.with_name(archive.name + ".sha256")
    if sidecar.exists() and sidecar.read_text().split()[0] != _sha256_file(archive):
        raise CheckFailed(f"{archive}: archive checksum mismatch; not restoring")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
            for info in tar:
                if info.name == MANIFEST:
                    continue
                expected = manifest["files"].get(info.name)
                fh = tar.extractfile(info)
                if expected is None or fh is None or hashlib.sha256(fh.read()).hexdigest() != expected["sha256"]:
                    raise CheckFailed(f"{archive}: {info.name} does not match the backup manifest; not restoring")
    except (tarfile.TarError, KeyError, ValueError, OSError, EOFError, zlib.error) as exc:
        raise CheckFailed(f"{archive}: unreadable backup ({type(exc).__name__}: {exc}); not restoring") from None
    return manifest


def restore_backup(node: Node, backend, archive: Path) -> list[Path]:  # noqa: ANN001
    manifest = verify_archive(archive)
    if (manifest.get("chain"), manifest.get("network")) != (node.chain.name, node.network.key):
        raise MevopsError(Problem(str(archive), None, "", f"is a backup of {manifest.get('chain')}/{manifest.get('network')}, not {node.name}"))
    stamp = time.strftime("%Y%m%dT%H%M%S")
    staging = {c.name: Path(c.data_dir).with_name(f"{Path(c.data_dir).name}.restore-{stamp}") for c in node.services}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar:
                if info.name == MANIFEST:
                    continue
                client, _, rel = info.name.partition("/")
                if client not in staging or not info.isfile():
                    continue
                target = staging[client] / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(info) as src, open(target, "wb") as out:  # type: ignore[union-attr]
                    shutil.copyfileobj(src, out)
                os.utime(target, (info.mtime, info.mtime))
    except BaseException:
        for path in staging.values():
            shutil.rmtree(path, ignore_errors=True)
        raise
    was_running = any(s.state == "running" for s in backend.status(node))
    if was_running:
        backend.down(node)
    kept = []
    for client in node.services:
        current = Path(client.data_dir)
        new = staging[client.name]
        new.mkdir(parents=True, exist_ok=True)
        if current.exists():
            old = current.with_name(f"{current.name}.pre-restore-{stamp}")
            current.rename(old)
            kept.append(old)
        new.rename(current)
    if was_running:
        backend.up(node)
    return kept
