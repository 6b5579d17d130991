"""``mevops chain install``: fetch a pinned client release, verify its sha256, switch atomically.

Layout: ``<chain>/binaries/<client>/<version>/<binary>`` and a ``current`` symlink to the active
version; earlier versions stay for rollback. A checksum mismatch deletes the download and
switches nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mevops.errors import MevopsError, Problem

CHUNK = 1 << 20


@dataclass
class InstallResult:
    client: str
    version: str
    path: Path
    changed: bool
    previous: str | None


def _download(url: str, target: Path) -> str:
    """Stream ``url`` into ``target``; return its sha256."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        if url.startswith("file://"):
            with open(url.removeprefix("file://"), "rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        else:
            import httpx

            try:
                with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
                    response.raise_for_status()
                    for chunk in response.iter_bytes(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise MevopsError(Problem(url, None, "download", f"failed: {exc}")) from None
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _extract(archive: Path, member: str, target: Path) -> None:
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            try:
                info = tar.getmember(member)
            except KeyError:
                raise MevopsError(Problem(str(archive), None, "member", f"{member!r} is not in the release archive")) from None
            if not info.isfile():
                raise MevopsError(Problem(str(archive), None, "member", f"{member!r} is not a regular file"))
            src = tar.extractfile(info)
            assert src is not None
            with src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
    else:
        shutil.copyfile(archive, target)
    target.chmod(0o755)


def install_client(binaries: Path, client_name: str, binary: str, install, version: str | None = None) -> InstallResult:  # noqa: ANN001
    """Install ``version`` (default: the catalog's) of a client into ``binaries/<client>/``."""
    if install is None:
        raise MevopsError(Problem(client_name, None, "install", "the catalog has no install source for this client"))
    version = version or install.default_version
    release = install.releases.get(version)
    if release is None:
        pinned = ", ".join(install.releases) or "none"
        raise MevopsError(Problem(client_name, None, "version", f"no pinned release {version!r} in the catalog (pinned: {pinned})"))
    home = binaries / client_name
    final = home / version / binary
    current = home / "current"
    previous = os.readlink(current) if current.is_symlink() else None
    marker = home / version / ".sha256"
    if final.is_file() and marker.is_file() and marker.read_text().strip() == release.sha256:
        changed = previous != version
        _switch(current, version)
        return InstallResult(client_name, version, final, changed, previous)
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=home) as tmp:
        archive = Path(tmp) / "release"
        got = _download(release.url, archive)
        if got != release.sha256:
            raise MevopsError(Problem(release.url, None, "sha256", f"checksum mismatch: expected {release.sha256}, got {got}; nothing installed"))
        staging = Path(tmp) / version
        staging.mkdir()
        _extract(archive, release.member, staging / binary)
        (staging / ".sha256").write_text(release.sha256 + "\n")
        if (home / version).exists():
            shutil.rmtree(home / version)
        staging.rename(home / version)
    _switch(current, version)
    return InstallResult(client_name, version, final, True, previous)


def _switch(current: Path, version: str) -> None:
    """Point ``current`` at ``version`` atomically (rename over the old link)."""
    tmp = current.with_name(".current.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(version)
    os.replace(tmp, current)
