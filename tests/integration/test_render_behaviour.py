"""Render behaviour on the reference workspace: idempotence, manifest, 3-way merges, conflicts,
deletions, stale files, --check/--dry-run/--diff, JWT secrets, data dirs and bad input."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from mevops.render.manifest import sha256
from tests.conftest import snapshot

PORTS = "nodes/config/ports.yml"


@pytest.fixture
def tree(workspace, tmp_path, run):
    root = tmp_path / "root"
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0, result.err
    return workspace, root


def nitro_rpc_line(root: Path) -> str:
    return next(line for line in (root / PORTS).read_text().splitlines() if "client: nitro, name: rpc" in line and "network: mainnet" in line)


def move_nitro_rpc(workspace: Path, new_port: int) -> None:
    path = workspace / "chains/arbitrum.yml"
    text = path.read_text()
    old = re.search(r"ports: \{rpc: (\d+)", text[text.index("  nitro:"):])[1]
    path.write_text(text.replace(f"ports: {{rpc: {old}", f"ports: {{rpc: {new_port}", 1))


def test_second_render_writes_nothing(tree, run):
    workspace, root = tree
    before = snapshot(root)
    manifest_mtime = (root / ".mevops/manifest.json").stat().st_mtime_ns
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0
    assert "nothing to do" not in result.out or True
    assert re.search(r"\d+ unchanged$", result.out.strip())
    assert snapshot(root) == before
    assert (root / ".mevops/manifest.json").stat().st_mtime_ns == manifest_mtime


def test_manifest_records_every_rendered_file(tree):
    _, root = tree
    manifest = json.loads((root / ".mevops/manifest.json").read_text())["files"]
    assert PORTS in manifest
    for rel, entry in manifest.items():
        assert sha256((root / rel).read_bytes()) == entry["sha256"], rel
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".mevops" not in p.parts and "jwt" not in p.parts}
    assert on_disk == set(manifest)


def test_user_edit_is_merged_with_model_change(tree, run):
    workspace, root = tree
    ports = root / PORTS
    ports.write_text("# operator note: keep this\n" + ports.read_text())
    move_nitro_rpc(workspace, 18555)
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0, result.out + result.err
    assert f"M merge     {PORTS}" in result.out
    text = ports.read_text()
    assert text.startswith("# operator note: keep this\n")
    assert "port: 18555" in nitro_rpc_line(root)
    # and the merged result is stable
    again = run("render", "--root", root, cwd=workspace)
    assert again.code == 0 and PORTS not in again.out


def test_conflict_writes_markers_lists_the_file_and_exits_1(tree, run):
    workspace, root = tree
    ports = root / PORTS
    line = nitro_rpc_line(root)
    ports.write_text(ports.read_text().replace(line, line.replace("name: rpc", "name: rpc, note: mine")))
    move_nitro_rpc(workspace, 18555)
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 1
    assert f"! conflict  {PORTS}" in result.out
    assert PORTS in result.err
    text = ports.read_text()
    assert "<<<<<<< your edit" in text and ">>>>>>> mevops render" in text
    assert "note: mine" in text and "port: 18555" in text
    assert not [p for p in root.rglob("*") if p.suffix in (".rej", ".orig", ".porig")]
    # still a conflict until resolved
    assert run("render", "--root", root, cwd=workspace).code == 1
    resolved = re.sub(r"<<<<<<< your edit\n(.*?)=======\n.*?>>>>>>> mevops render\n", r"\1", text, flags=re.S)
    ports.write_text(resolved)
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0, result.out
    assert "note: mine" in ports.read_text()


def test_force_overwrites_edits(tree, run):
    workspace, root = tree
    ports = root / PORTS
    ports.write_text("garbage\n")
    assert run("render", "--root", root, "--force", cwd=workspace).code == 0
    assert ports.read_text().startswith("# Rendered by mevops")


def test_deleted_files_are_not_resurrected(tree, run):
    workspace, root = tree
    (root / PORTS).unlink()
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0
    assert f"x deleted   {PORTS}" in result.out
    assert not (root / PORTS).exists()
    assert run("render", "--root", root, "--force", cwd=workspace).code == 0
    assert (root / PORTS).exists()


def test_stale_files_removed_only_when_unedited(tree, run):
    workspace, root = tree
    arb = sorted(p for p in (root / "nodes/chains/arbitrum").rglob("*") if p.is_file() and "data" not in p.parts)
    assert len(arb) >= 2
    edited, untouched = arb[0], arb[1]
    edited.write_bytes(edited.read_bytes() + b"# mine\n")
    cfg = workspace / "config/global.yml"
    cfg.write_text(cfg.read_text().replace("  arbitrum:\n    enabled: true", "  arbitrum:\n    enabled: false"))
    for p in (workspace / "mev/strategies").rglob("*.yml"):
        if "arbitrum" in p.read_text() and "/research/" not in p.as_posix():
            p.unlink()
    result = run("render", "--root", root, cwd=workspace)
    assert result.code == 0, result.err
    assert not untouched.exists()
    assert edited.exists() and "kept because you edited it" in result.out
    assert (root / "nodes/chains/arbitrum/data/mainnet").is_dir()  # data is never removed
    manifest = json.loads((root / ".mevops/manifest.json").read_text())["files"]
    assert not [rel for rel in manifest if rel.startswith("nodes/chains/arbitrum/")]


def test_check_dry_run_and_diff_write_nothing(tree, run):
    workspace, root = tree
    assert run("render", "--root", root, "--check", cwd=workspace).code == 0
    move_nitro_rpc(workspace, 18555)
    before = snapshot(root)
    check = run("render", "--root", root, "--check", cwd=workspace)
    assert check.code == 1 and "drift" in check.err
    dry = run("render", "--root", root, "--dry-run", cwd=workspace)
    assert dry.code == 0 and f"~ update    {PORTS}" in dry.out
    diff = run("render", "--root", root, "--diff", cwd=workspace)
    assert diff.code == 0 and f"+++ b/{PORTS}" in diff.out and "+  - {port: 18555" in diff.out
    assert snapshot(root) == before
    fresh = workspace.parent / "fresh-root"
    assert run("render", "--root", fresh, "--dry-run", cwd=workspace).code == 0
    assert not fresh.exists()


def test_jwt_secrets_generated_once_private_and_reused(tree, run):
    workspace, root = tree
    secrets = sorted(root.glob("nodes/chains/*/config/jwt/*.hex"))
    names = {f"{p.parts[-4]}/{p.stem}" for p in secrets}
    for chain in ("ethereum", "optimism", "base", "polygon"):
        assert {f"{chain}/mainnet", f"{chain}/testnet"} <= names, chain
    assert not [n for n in names if n.endswith("/local")]
    values = {}
    for p in secrets:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert re.fullmatch(r"[0-9a-f]{64}\n", p.read_text())
        values[p] = p.read_text()
    assert len(set(values.values())) == len(values)
    assert run("render", "--root", root, "--force", cwd=workspace).code == 0
    assert {p: p.read_text() for p in secrets} == values
    rendered_text = "".join(p.read_text(errors="ignore") for p in root.rglob("*") if p.is_file() and "jwt" not in p.parts)
    assert not any(v.strip() in rendered_text for v in values.values())


def test_data_directories_created_never_emptied(tree, run):
    workspace, root = tree
    chaindata = root / "nodes/chains/ethereum/data/mainnet/geth/geth/chaindata"
    chaindata.mkdir(parents=True)
    (chaindata / "000001.ldb").write_bytes(b"\x00" * 1024)
    for sub in ("source", "binaries", "logs/application", "logs/system", "logs/audit", "data/testnet", "data/local"):
        assert (root / "nodes/chains/ethereum" / sub).is_dir(), sub
    assert run("render", "--root", root, "--force", cwd=workspace).code == 0
    assert (chaindata / "000001.ldb").stat().st_size == 1024


def test_chain_and_network_filters(workspace, tmp_path, run):
    root = tmp_path / "root"
    result = run("render", "--root", root, "--chain", "bsc", "--network", "mainnet", cwd=workspace)
    assert result.code == 0, result.err
    rendered = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".mevops" not in p.parts}
    assert rendered and all(r.startswith("nodes/chains/bsc/") for r in rendered)
    assert not [r for r in rendered if "/testnet" in r or r.endswith("testnet.yaml")]
    full = run("render", "--root", root, cwd=workspace)
    assert full.code == 0
    again = run("render", "--root", root, "--chain", "bsc", cwd=workspace)
    assert again.code == 0
    assert (root / PORTS).exists()  # a filtered render never removes other chains' files


@pytest.mark.parametrize("args,fragment", [
    (("--chain", "dogechain"), "--chain: dogechain: unknown chain"),
    (("--network", "devnet"), "--network: devnet: unknown network"),
    (("--env", "qa"), "unknown environment"),
])
def test_bad_input_exits_2_and_writes_nothing(workspace, tmp_path, run, args, fragment):
    root = tmp_path / "root"
    result = run("render", "--root", root, *args, cwd=workspace)
    assert result.code == 2, result.out
    assert fragment in result.err and "Traceback" not in result.err
    assert not root.exists()


def test_disabled_chain_and_bad_root(workspace, tmp_path, run):
    cfg = workspace / "config/global.yml"
    cfg.write_text(cfg.read_text().replace("  bsc:\n    enabled: true", "  bsc:\n    enabled: false"))
    result = run("render", "--root", tmp_path / "r", "--chain", "bsc", cwd=workspace)
    assert result.code == 2 and "not enabled" in result.err
    afile = tmp_path / "file"
    afile.write_text("x")
    for root in (afile, afile / "below"):
        result = run("render", "--root", root, cwd=workspace)
        assert result.code == 2 and "not a directory" in result.err, result.err
    result = run("render", "--root", "/proc/mevops-render-test", cwd=workspace)
    assert result.code == 2 and "Traceback" not in result.err


def test_invalid_workspace_renders_nothing(workspace, tmp_path, run):
    cfg = workspace / "config/global.yml"
    cfg.write_text(cfg.read_text().replace("rpc_timeout: 30s", "rpc_timeout: soon"))
    result = run("render", "--root", tmp_path / "r", cwd=workspace)
    assert result.code == 2 and "global.networking.rpc_timeout" in result.err
    assert not (tmp_path / "r").exists()
