"""`mevops migrate plan`: a reviewable YAML plan into the standardized tree; an edited plan that became
inconsistent is refused with `plan.yml:LINE: key: reason`, exit 2, and nothing touched."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from mevops.migrate.plan import load_plan
from tests.migrate_fixture import make_messy_tree, snapshot_tree


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    from mevops.migrate.plan import build_plan, dump_plan
    from mevops.migrate.scan import load_index, scan

    base = tmp_path_factory.mktemp("plan")
    src = make_messy_tree(base / "nodes")
    root = base / "root"
    plan = build_plan(scan(src, load_index()), root)
    (base / "plan.yml").write_text(dump_plan(plan))
    return base, src, root, plan


def item(plan, source):
    return next(i for i in plan.items if i.source == source)


@pytest.mark.parametrize("source, dest", [
    ("geth-mainnet/data", "nodes/chains/ethereum/data/mainnet/geth"),
    ("geth-mainnet/sepolia", "nodes/chains/ethereum/data/testnet/geth"),
    ("avax/db", "nodes/chains/avalanche/data/mainnet/avalanchego/db"),
    ("Arbitrum-Nitro/nitro", "nodes/chains/arbitrum/data/mainnet/nitro/nitro"),
    ("geth-mainnet/docker-compose.yml", "nodes/chains/ethereum/deployment/geth-mainnet/docker-compose.yml"),
    ("op_geth/op-geth.service", "nodes/chains/optimism/deployment/systemd/op-geth.service"),
    ("geth-mainnet/start.sh", "nodes/chains/ethereum/scripts/geth-mainnet/start.sh"),
    ("avax/start.sh", "nodes/chains/avalanche/scripts/avax/start.sh"),
    ("geth-mainnet/config.toml", "nodes/chains/ethereum/config/geth-mainnet/config.toml"),
    ("solana/validator-keypair.json", "nodes/chains/solana/config/keys/solana/validator-keypair.json"),
    ("logs/geth.log", "nodes/chains/ethereum/logs/application/legacy/geth.log"),
    ("backups/geth-mainnet-2023-01-01.tar.gz", "nodes/chains/ethereum/backups/legacy/geth-mainnet-2023-01-01.tar.gz"),
    ("mev-bots/arb-bot-py", "mev/bots/arb-bot-py"),
    ("scripts/mev_monitor.py", "mev/scripts/mev_monitor.py"),
    ("bsc_mainnet/core.12345", ".mevops/migrate/junk/bsc_mainnet/core.12345"),
])
def test_destinations_follow_the_standard_layout(planned, source, dest):
    assert (item(planned[3], source).action, item(planned[3], source).dest) == ("move", dest)


def test_unknowns_and_conflicts_stay_put_with_a_reason(planned):
    plan = planned[3]
    for source in ("README.md", "données été", "empty-dir", "current", "loop-a", "events.fifo", "scripts/cleanup.sh",
                   "logs/syslog", "jwt.hex"):
        it = item(plan, source)
        assert it.action == "keep" and it.dest is None and it.note, source
    archive = item(plan, "archive-geth")  # a second ethereum/geth/mainnet data dir: a human picks
    assert archive.action == "keep" and "conflict" in archive.note
    assert "several chains" in item(plan, "scripts/restart-all.sh").note
    assert "assumed network mainnet" in item(plan, "reth").note


def test_rewrites_are_planned_for_files_that_mention_moved_paths(planned):
    plan = planned[3]
    assert item(plan, "geth-mainnet/docker-compose.yml").rewrite
    assert item(plan, "op_geth/op-geth.service").rewrite
    assert not item(plan, "bsc_mainnet/config.toml").rewrite  # relative paths only: nothing to change
    assert not item(plan, "solana/validator-keypair.json").rewrite


def test_plan_file_round_trips(planned):
    base, _, _, plan = planned
    loaded = load_plan(base / "plan.yml")
    assert loaded.plan_id == plan.plan_id and len(loaded.items) == len(plan.items)
    text = (base / "plan.yml").read_text()
    assert text.startswith("# mevops migration plan") and "conflicts" in text.splitlines()[8]


def test_plan_command(run, tmp_path):
    src = make_messy_tree(tmp_path / "nodes")
    out = run("migrate", "plan", src, "--root", tmp_path / "root", "-o", tmp_path / "p.yml")
    assert out.code == 0, out.err
    assert "to move" in out.err and (tmp_path / "p.yml").is_file()
    printed = run("migrate", "plan", src, "--root", tmp_path / "root")
    assert printed.code == 0 and yaml.safe_load(printed.out)["version"] == 1
    assert not (tmp_path / "root").exists()  # planning touches nothing


def test_plan_bad_input(run, tmp_path):
    src = make_messy_tree(tmp_path / "nodes")
    before = snapshot_tree(src)
    for args, fragment in [
        ((tmp_path / "missing", "--root", tmp_path / "r"), "does not exist"),
        ((src, "--root", src / "inside"), "inside the source"),
        ((src, "--root", src), "inside the source"),
    ]:
        result = run("migrate", "plan", *args, cwd=tmp_path)
        assert result.code == 2 and fragment in result.err and "Traceback" not in result.err, (args, result.err)
    outside = run("migrate", "plan", src, cwd=tmp_path)  # no --root and no workspace
    assert outside.code == 2 and "workspace" in outside.err
    assert snapshot_tree(src) == before


# -- an edited plan that became inconsistent ------------------------------------------------------------
def _edit(text: str, source: str, key: str, value: str) -> str:
    """Set ``key`` of the item whose source is ``source`` (or add it after the source line)."""
    lines = text.splitlines()
    start = lines.index(f'  - source: "{source}"')
    if key == "source":
        lines[start] = f"  - source: {value}"
        return "\n".join(lines) + "\n"
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("  - "):
            break
        if lines[i].startswith(f"    {key}:"):
            lines[i] = f"    {key}: {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"    {key}: {value}")
    return "\n".join(lines) + "\n"


DATA = "geth-mainnet/data"
DEST = '"nodes/chains/ethereum/data/mainnet/geth"'
CORPUS = [
    ("two-sources-one-dest", lambda t: _edit(t, "geth-mainnet/sepolia", "dest", DEST), "items[", "two sources to one destination"),
    ("dotdot", lambda t: _edit(t, DATA, "dest", '"nodes/../../escape"'), ".dest", "normalized relative path"),
    ("absolute", lambda t: _edit(t, DATA, "dest", '"/etc/passwd"'), ".dest", "must be relative"),
    ("reserved", lambda t: _edit(t, DATA, "dest", '".mevops/migrate/current/x"'), ".dest", "reserved"),
    ("nested-dest", lambda t: _edit(t, "geth-mainnet/sepolia", "dest", DEST[:-1] + '/sepolia"'), ".dest", "inside the destination"),
    ("overlapping-source", lambda t: _edit(t, "geth-mainnet/sepolia", "source", '"geth-mainnet/data/geth"'), ".source",
     "inside another source"),
    ("missing-source", lambda t: _edit(t, DATA, "source", '"geth-mainnet/nope"'), ".source", "does not exist"),
    ("type-changed", lambda t: _edit(t, DATA, "type", "file"), ".type", "is not one"),
    ("move-without-dest", lambda t: _edit(t, DATA, "dest", "null"), "items[", "needs a dest"),
    ("bad-action", lambda t: _edit(t, DATA, "action", "teleport"), ".action", "'move' or 'keep'"),
    ("unknown-key", lambda t: _edit(t, DATA, "destination", '"x"'), ".destination", "unknown key"),
    ("dest-exists", None, ".dest", "already exists"),
    ("root-in-source", lambda t: t.replace('root: "', 'root: "SRC/inside-', 1), "root", "inside the source"),
    ("source-dup", lambda t: _edit(t, "geth-mainnet/sepolia", "source", f'"{DATA}"'), ".source", "listed twice"),
    ("version", lambda t: t.replace("version: 1", "version: 2", 1), "version", "Input should be 1"),
    ("not-yaml", lambda t: t + "  - [unclosed\n", "yaml", ""),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One legacy tree and plan for the whole corpus: a refused apply touches nothing, so they stay valid."""
    base = tmp_path_factory.mktemp("corpus")
    src = make_messy_tree(base / "nodes")
    from mevops.migrate.plan import build_plan, dump_plan
    from mevops.migrate.scan import load_index, scan

    text = dump_plan(build_plan(scan(src, load_index()), base / "root"))
    return src, base / "root", text, snapshot_tree(src)


@pytest.mark.parametrize("case, mutate, key, fragment", CORPUS, ids=[c[0] for c in CORPUS])
def test_inconsistent_plan_is_refused_and_nothing_touched(run, tmp_path, shared, case, mutate, key, fragment):
    src, root, text, before = shared
    occupied = root / "nodes/chains/ethereum/data/mainnet/geth"
    if mutate is None:  # something now sits at a destination
        occupied.mkdir(parents=True)
        (occupied / "occupied").write_text("x")
        mutate = lambda t: t  # noqa: E731
    (tmp_path / "plan.yml").write_text(mutate(text).replace("SRC/", str(src) + "/"))
    root_before = snapshot_tree(root) if root.exists() else None
    try:
        result = run("migrate", "apply", tmp_path / "plan.yml", "--yes", cwd=tmp_path, env={"XDG_STATE_HOME": str(tmp_path / "s")})
        assert result.code == 2, (case, result.out, result.err)
        assert "Traceback" not in result.err
        assert re.search(r"^error: plan\.yml:\d+: ", result.err, re.M), result.err
        assert key in result.err and fragment in result.err, result.err
        assert snapshot_tree(src) == before
        assert (snapshot_tree(root) if root.exists() else None) == root_before
        assert not (root / ".mevops").exists()
    finally:
        if root.exists():
            shutil.rmtree(root)
