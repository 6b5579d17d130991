"""A copy back is hard-linked to a name left behind in the source only if that name is really the
recorded file: an inode number can be reused by a file created after the manifest was taken."""

from __future__ import annotations

import os

from mevops.migrate.copy import TreeCopier
from mevops.migrate.digest import digest_path
from mevops.migrate.rollback import _same_file, _seed_links


def _rec(path, rel):
    st = os.lstat(path)
    return {"type": "file", "rel": rel, "size": st.st_size, "mtime": st.st_mtime_ns, "digest": digest_path(str(path)),
            "key": f"{st.st_dev}:{st.st_ino}"}


def test_only_the_recorded_file_is_a_link_partner(tmp_path):
    original = tmp_path / "nodekey"
    original.write_bytes(b"k" * 64)
    rec = _rec(original, "nodekey")
    assert _same_file(str(original), rec)
    impostor = tmp_path / "empty"           # what an inode reuse would point at
    impostor.write_bytes(b"")
    assert not _same_file(str(impostor), rec)
    same_size = tmp_path / "other"
    same_size.write_bytes(b"x" * 64)
    os.utime(same_size, ns=(rec["mtime"], rec["mtime"]))
    assert not _same_file(str(same_size), rec), "equal size and mtime but another content"


def test_seed_links_skips_an_impostor(tmp_path):
    dst = tmp_path / "migrated"
    dst.mkdir()
    (dst / "nodekey").write_bytes(b"k" * 64)
    rec = _rec(dst / "nodekey", "nodekey")
    impostor = tmp_path / "left-behind"
    impostor.write_bytes(b"")
    copier = TreeCopier()
    _seed_links(copier, [rec], str(dst), {rec["key"]: str(impostor)})
    assert copier.links == {}
    partner = tmp_path / "partner"
    os.link(dst / "nodekey", partner)
    _seed_links(copier, [rec], str(dst), {rec["key"]: str(partner)})
    assert list(copier.links.values()) == [str(partner)]
