"""`mevops migrate scan`: every entry of a messy legacy tree classified by names and contents, with
sizes and hazards; secrets never shown."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from mevops.migrate.scan import load_index, scan
from tests.migrate_fixture import make_messy_tree


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    return make_messy_tree(tmp_path_factory.mktemp("scan") / "nodes")


@pytest.fixture(scope="module")
def inventory(legacy):
    return {e.path: e for e in scan(legacy, load_index()).entries}


@pytest.mark.parametrize("path, role, chain, client, network", [
    ("geth-mainnet/data", "chain-data", "ethereum", "geth", "mainnet"),
    ("geth-mainnet/sepolia", "chain-data", "ethereum", "geth", "testnet"),       # testnet nested in a mainnet dir
    ("Arbitrum-Nitro/nitro", "chain-data", "arbitrum", "nitro", "mainnet"),      # network from the compose's --chain.id
    ("op_geth/geth", "chain-data", "optimism", "op-geth", "mainnet"),
    ("bsc_mainnet/node", "chain-data", "bsc", "bsc", "mainnet"),
    ("avax/db", "chain-data", "avalanche", "avalanchego", "mainnet"),
    ("testnet/fuji-avax", "chain-data", "avalanche", "avalanchego", "testnet"),  # db/fuji says so
    ("testnet/chapel", "chain-data", "bsc", "bsc", "testnet"),
    ("testnet/amoy-bor", "chain-data", "polygon", "bor", "testnet"),
    ("polygon/heimdall", "chain-data", "polygon", "heimdall", "mainnet"),        # --chain=mainnet in heimdalld.service
    ("solana/ledger", "chain-data", "solana", "agave", "mainnet"),               # the start script's entrypoint
    ("erigon-holesky", "chain-data", "ethereum", "erigon", "testnet"),
    ("lighthouse", "chain-data", "ethereum", "lighthouse", "mainnet"),
    ("op-node/opnode_peerstore_db", "chain-data", "optimism", "op-node", "mainnet"),
    ("geth-mainnet/docker-compose.yml", "deployment", "ethereum", "geth", "mainnet"),
    ("Arbitrum-Nitro/docker-compose.yml", "deployment", "arbitrum", "nitro", "mainnet"),
    ("op_geth/op-geth.service", "deployment", "optimism", "op-geth", "mainnet"),
    ("lighthouse.service", "deployment", "ethereum", "lighthouse", "mainnet"),
    ("geth-mainnet/start.sh", "deployment", "ethereum", "geth", "mainnet"),
    ("op_geth/rollup.json", "config", "optimism", "op-geth", "mainnet"),
    ("bsc_mainnet/config.toml", "config", "bsc", "bsc", "mainnet"),
    ("solana/validator-keypair.json", "keys", "solana", "agave", None),
    ("op_geth/jwt.txt", "keys", "optimism", "op-geth", None),
    ("geth-mainnet/geth.log", "logs", "ethereum", "geth", "mainnet"),
    ("logs/bor.log", "logs", "polygon", "bor", None),
    ("Arbitrum-Nitro/logs", "logs", "arbitrum", "nitro", None),
    ("backups/geth-mainnet-2023-01-01.tar.gz", "backup", "ethereum", "geth", "mainnet"),
    ("geth mainnet copy", "backup", "ethereum", "geth", "mainnet"),
    ("mev-bots/arb-bot-py", "mev", None, None, None),
    ("mev-bots/liquidator-rs", "mev", None, None, None),
    ("scripts/mev_monitor.py", "mev", None, None, None),
    ("bsc_mainnet/core.12345", "junk", "bsc", "bsc", "mainnet"),
    ("bsc_mainnet/bsc.pid", "junk", "bsc", "bsc", "mainnet"),
    ("geth-mainnet/.config.toml.swp", "junk", "ethereum", "geth", "mainnet"),
    ("tmp", "junk", None, None, None),
    ("README.md", "unknown", None, None, None),
    ("données été", "unknown", None, None, None),
    ("events.fifo", "unknown", None, None, None),
    ("loop-a", "unknown", None, None, None),
])
def test_classified_by_names_and_contents(inventory, path, role, chain, client, network):
    e = inventory[path]
    assert (e.role, e.chain, e.client, e.network) == (role, chain, client, network), e


def test_data_directory_moves_whole_unless_other_things_sit_inside(inventory):
    assert "geth-mainnet/data/geth" not in inventory          # whole: stale socket and keystore stay with it
    assert inventory["geth-mainnet/data"].part_of is None
    assert inventory["avax/staking"].part_of == "avax"       # avax/ holds a unit and a script: moved in pieces
    assert inventory["reth"].assumed == ["network"]          # nothing names reth's network: said, not silently guessed


def test_conflicts_are_reported_not_guessed(inventory):
    assert "several chains" in inventory["scripts/restart-all.sh"].conflict
    assert inventory["scripts/cleanup.sh"].chain is None


def test_hazards(inventory, legacy):
    kinds = {path: set(e.hazard_counts) for path, e in inventory.items()}
    assert {"sparse", "hardlink", "symlink-dangling", "special"} <= kinds["geth-mainnet/data"]
    assert "symlink-loop" in kinds["loop-a"] and "symlink-loop" in kinds["self-loop"]
    assert "symlink-escapes" in kinds["current"]
    assert "odd-name" in kinds["my notes.txt"] and "odd-name" in kinds["données été"]
    assert "permissions" in kinds["private"]
    assert "special" in kinds["events.fifo"]
    assert {"hardlink", "special"} <= kinds["mev-bots/arb-bot-py"]
    e = inventory["geth-mainnet/data"]
    assert e.size > 1 << 20 > e.disk  # the sparse freezer file: 1 MiB apparent, little allocated


def test_live_users_are_found(tmp_path):
    src = make_messy_tree(tmp_path / "nodes")
    lock = src / "geth-mainnet/data/geth/chaindata/LOCK"
    ipc = src / "op_geth/geth.ipc"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, socket, sys, time
        fh = open({str(lock)!r}, "r+"); fcntl.flock(fh, fcntl.LOCK_EX)
        s = socket.socket(socket.AF_UNIX); s.bind({str(ipc)!r}); s.listen()
        print("ready", flush=True); time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        entries = {e.path: e for e in scan(src, load_index()).entries}
        busy = [h for h in entries["geth-mainnet/data"].hazards if h.kind == "in-use"]
        assert busy and "LOCK" in busy[0].path and f"pid {holder.pid}" in busy[0].detail
        assert any(h.kind == "in-use" and "geth.ipc" in h.path for e in entries.values() for h in e.hazards)
    finally:
        holder.kill()
        holder.wait()


SECRETS = ["ab" * 32, "cd" * 32, "ef" * 32, "12" * 32, "do not read", "heimdall-private-key-material"]


def test_scan_never_prints_secrets(run, legacy):
    table = run("migrate", "scan", legacy)
    as_json = run("migrate", "scan", legacy, "--json")
    assert table.code == 0 and as_json.code == 0, table.err + as_json.err
    data = json.loads(as_json.out)
    assert {e["path"] for e in data["entries"]} >= {"geth-mainnet/.env", "solana/validator-keypair.json"}
    env = next(e for e in data["entries"] if e["path"] == "geth-mainnet/.env")
    assert env["secret"] and env["details"] == {"variables": 2, "secret_looking": 1}
    for secret in SECRETS:
        assert secret not in table.out + as_json.out
    keypair = json.loads((legacy / "solana/validator-keypair.json").read_text())
    assert str(keypair[:8])[1:-1] not in as_json.out


def test_scan_bad_input(run, tmp_path):
    missing = run("migrate", "scan", tmp_path / "nope")
    assert missing.code == 2 and "does not exist" in missing.err and "Traceback" not in missing.err
    (tmp_path / "file").write_text("x")
    assert run("migrate", "scan", tmp_path / "file").code == 2


def test_scan_is_read_only(legacy):
    from tests.migrate_fixture import snapshot_tree

    before = snapshot_tree(legacy)
    scan(legacy, load_index())
    after = snapshot_tree(legacy)
    assert before == after
