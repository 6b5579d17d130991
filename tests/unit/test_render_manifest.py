"""The render manifest's merge bases: one pack file, read lazily, older per-file bases migrated."""

from __future__ import annotations

import json

from mevops.render.manifest import Entry, Manifest, sha256, write_atomic


def test_bases_round_trip_through_one_pack(tmp_path):
    m = Manifest(tmp_path)
    m.files["a/b.yml"] = Entry(sha256(b"x: 1\n"))
    m.set_base("a/b.yml", b"x: 1\n")
    m.save()
    assert not (tmp_path / ".mevops/base").exists()
    head, _, blob = (tmp_path / ".mevops/base.pack").read_bytes().partition(b"\n")
    assert json.loads(head) == {"a/b.yml": [0, 5]} and blob == b"x: 1\n"
    again = Manifest.load(tmp_path)
    assert again.base("a/b.yml") == b"x: 1\n"
    assert again.base("missing") is None


def test_dropped_files_leave_the_pack(tmp_path):
    m = Manifest(tmp_path)
    for rel in ("keep", "gone"):
        m.files[rel] = Entry(sha256(rel.encode()))
        m.set_base(rel, rel.encode())
    m.save()
    m = Manifest.load(tmp_path)
    m.drop("gone")
    m.save()
    assert Manifest.load(tmp_path).base("gone") is None
    assert Manifest.load(tmp_path).base("keep") == b"keep"


def test_per_file_bases_of_an_older_mevops_are_read_and_replaced(tmp_path):
    m = Manifest(tmp_path)
    m.files["nodes/x.toml"] = Entry(sha256(b"old"))
    m.save()
    write_atomic(tmp_path / ".mevops/base/nodes/x.toml", b"old")
    legacy = Manifest.load(tmp_path)
    assert legacy.base("nodes/x.toml") == b"old"
    legacy.save()
    assert not (tmp_path / ".mevops/base").exists()
    assert Manifest.load(tmp_path).base("nodes/x.toml") == b"old"


def test_unchanged_bases_are_not_rewritten(tmp_path):
    m = Manifest(tmp_path)
    m.files["f"] = Entry(sha256(b"v"))
    m.set_base("f", b"v")
    m.save()
    pack = tmp_path / ".mevops/base.pack"
    before = pack.stat().st_mtime_ns
    again = Manifest.load(tmp_path)
    again.set_base("f", b"v")
    again.save()
    assert pack.stat().st_mtime_ns == before


def test_a_damaged_pack_is_a_clear_error(tmp_path):
    import pytest

    from mevops.errors import MevopsError

    m = Manifest(tmp_path)
    m.files["f"] = Entry(sha256(b"value"))
    m.set_base("f", b"value")
    m.save()
    pack = tmp_path / ".mevops/base.pack"
    pack.write_bytes(pack.read_bytes()[:-2])
    with pytest.raises(MevopsError, match="unreadable merge bases"):
        Manifest.load(tmp_path).base("f")


def test_write_new_writes_in_place_and_falls_back_to_atomic(tmp_path):
    from mevops.render.manifest import write_new

    target = tmp_path / "run.sh"
    write_new(target, b"#!/bin/sh\n", 0o755)
    assert target.read_bytes() == b"#!/bin/sh\n" and target.stat().st_mode & 0o777 == 0o755
    write_new(target, b"again\n")  # exists after all: replaced atomically, nothing left over
    assert target.read_bytes() == b"again\n" and sorted(p.name for p in tmp_path.iterdir()) == ["run.sh"]
