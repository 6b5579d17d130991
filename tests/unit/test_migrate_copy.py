"""The cross-filesystem copy: sparse files stay sparse, holes are never read, hard links stay links,
symlinks and special files are recreated, metadata kept, and the digest proves the bytes."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from mevops.migrate.copy import TreeCopier, check_tree, remove_tree
from mevops.migrate.digest import CHUNK, digest_path

SHM = Path("/dev/shm")


@pytest.fixture
def shm(tmp_path):
    if not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem")
    target = SHM / f"mevops-copy-test-{os.getpid()}"
    shutil.rmtree(target, ignore_errors=True)
    yield target
    shutil.rmtree(target, ignore_errors=True)


def sparse_file(path: Path, size: int, pieces: list[tuple[int, bytes]]) -> Path:
    with open(path, "wb") as fh:
        for offset, data in pieces:
            fh.seek(offset)
            fh.write(data)
        fh.truncate(size)
    return path


def test_sparse_copy_keeps_holes_and_digests_equal(tmp_path, shm):
    src = tmp_path / "src"
    src.mkdir()
    big = sparse_file(src / "freezer.cdat", 256 << 20, [(0, b"head" * 1000), (100 << 20, os.urandom(70000)), ((256 << 20) - 5, b"tail!")])
    os.utime(big, ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    manifest = TreeCopier().copy(str(src), str(shm))
    copied = os.stat(shm / "freezer.cdat")
    assert copied.st_size == 256 << 20
    assert copied.st_blocks * 512 < 1 << 20  # a few data pages, not 256 MiB
    assert copied.st_mtime_ns == 1_600_000_000_123_456_789
    assert digest_path(str(big)) == digest_path(str(shm / "freezer.cdat"))
    assert not check_tree(str(shm), manifest)


def test_digest_is_about_bytes_not_allocation(tmp_path):
    dense = tmp_path / "dense"
    dense.write_bytes(bytes(3 * CHUNK) + b"x")
    sparse = sparse_file(tmp_path / "sparse", 3 * CHUNK + 1, [(3 * CHUNK, b"x")])
    other = sparse_file(tmp_path / "other", 3 * CHUNK + 1, [(3 * CHUNK, b"y")])
    assert digest_path(str(dense)) == digest_path(str(sparse)) != digest_path(str(other))
    shorter = sparse_file(tmp_path / "shorter", 3 * CHUNK, [])
    assert digest_path(str(shorter)) != digest_path(str(sparse_file(tmp_path / "longer", 3 * CHUNK + 7, [])))


def test_links_specials_and_metadata(tmp_path, shm):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a").write_bytes(b"shared bytes")
    os.link(src / "a", src / "sub/a-again")
    os.symlink("../a", src / "sub/rel-link")
    os.symlink("/nonexistent/target", src / "dangling")
    os.symlink("loop", src / "loop")
    os.mkfifo(src / "pipe", 0o640)
    (src / "secret").write_text("k")
    os.chmod(src / "secret", 0o600)
    os.chmod(src / "sub", 0o750)
    if os.geteuid() == 0:
        os.lchown(src / "secret", 1234, 5678)
        os.mknod(src / "null", stat.S_IFCHR | 0o644, os.makedev(1, 3))
    os.utime(src / "sub", ns=(1, 1_500_000_000_000_000_000))
    manifest = TreeCopier().copy(str(src), str(shm))
    assert os.path.samestat(os.stat(shm / "a"), os.stat(shm / "sub/a-again"))
    assert os.readlink(shm / "sub/rel-link") == "../a" and os.readlink(shm / "dangling") == "/nonexistent/target"
    assert os.readlink(shm / "loop") == "loop"
    assert stat.S_ISFIFO(os.lstat(shm / "pipe").st_mode) and stat.S_IMODE(os.lstat(shm / "pipe").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(shm / "sub").st_mode) == 0o750
    assert os.stat(shm / "sub").st_mtime_ns == 1_500_000_000_000_000_000
    if os.geteuid() == 0:
        assert (os.stat(shm / "secret").st_uid, os.stat(shm / "secret").st_gid) == (1234, 5678)
        assert os.lstat(shm / "null").st_rdev == os.makedev(1, 3)
    assert not check_tree(str(shm), manifest)


def test_check_tree_catches_any_difference(tmp_path, shm):
    src = tmp_path / "src"
    src.mkdir()
    (src / "data").write_bytes(os.urandom(3 * CHUNK))
    manifest = TreeCopier().copy(str(src), str(shm))
    with open(shm / "data", "r+b") as fh:  # flip one bit in the middle, keep the mtime
        st = os.fstat(fh.fileno())
        fh.seek(CHUNK + 17)
        byte = fh.read(1)
        fh.seek(CHUNK + 17)
        fh.write(bytes([byte[0] ^ 1]))
    os.utime(shm / "data", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert any("content differs" in p for p in check_tree(str(shm), manifest))
    (shm / "extra").write_text("x")
    assert any("not in the source" in p for p in check_tree(str(shm), manifest))


def test_remove_tree_handles_locked_down_directories(tmp_path):
    top = tmp_path / "t"
    (top / "x/y").mkdir(parents=True)
    (top / "x/y/f").write_text("1")
    os.symlink("f", top / "x/y/l")
    os.chmod(top / "x/y", 0o500)
    remove_tree(str(top))
    assert not top.exists()
    remove_tree(str(top))  # missing is fine
