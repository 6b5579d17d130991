"""The process backend with a real anvil: up, status, health, down/up keeps state, crash restart,
side-by-side chains, bad input, backup/restore, and install against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import signal
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from mevops.lifecycle.process import pid_alive, read_state

# A contract whose runtime code is 0x602a60005260206000f3 (returns 42): init code copies it out.
RUNTIME = "602a60005260206000f3"
INIT = "69" + RUNTIME + "600052600a6016f3"
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first unlocked account


def rpc(url: str, method: str, params: list | None = None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    data = json.loads(urllib.request.urlopen(req, timeout=5).read())
    if "error" in data:
        raise RuntimeError(data["error"])
    return data["result"]


def deploy(url: str) -> str:
    tx = rpc(url, "eth_sendTransaction", [{"from": DEV, "data": "0x" + INIT, "gas": hex(200_000)}])
    for _ in range(100):
        receipt = rpc(url, "eth_getTransactionReceipt", [tx])
        if receipt:
            return receipt["contractAddress"]
        rpc(url, "evm_mine")
        time.sleep(0.05)
    raise AssertionError("deployment not mined")


@pytest.fixture
def node_env(workspace, tmp_path, anvil_binary, run):
    """A workspace, a target root and the pinned anvil placed where `chain install` puts it."""
    root = tmp_path / "root"
    for chain in ("ethereum", "arbitrum"):
        current = root / f"nodes/chains/{chain}/binaries/anvil/current"
        current.mkdir(parents=True)
        os.symlink(anvil_binary.resolve(), current / "anvil")
    yield workspace, root
    for chain in ("ethereum", "arbitrum"):
        run("chain", "down", chain, "--network", "local", "--root", root, cwd=workspace)


def url_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def catalog_port(workspace: Path, chain: str) -> tuple[int, int]:
    import yaml

    data = yaml.safe_load((workspace / f"chains/{chain}.yml").read_text())
    return data["clients"]["anvil"]["ports"]["rpc"], data["networks"]["local"]["chain_id"]


def test_up_status_health_down_keeps_state(node_env, run):
    workspace, root = node_env
    port, chain_id = catalog_port(workspace, "ethereum")
    up = run("chain", "up", "ethereum", "--network", "local", "--root", root, cwd=workspace)
    assert up.code == 0, up.err
    url = url_of(port)
    assert int(rpc(url, "eth_chainId"), 16) == chain_id
    again = run("chain", "up", "ethereum", "--network", "local", "--root", root, "--json", cwd=workspace)
    pid = json.loads(again.out)["services"][0]["pid"]
    assert again.code == 0 and pid == json.loads(run("chain", "status", "ethereum", "-n", "local", "--root", root, "--json", cwd=workspace).out)["services"][0]["pid"]
    health = run("chain", "health", "ethereum", "-n", "local", "--root", root, "--json", cwd=workspace)
    assert health.code == 0, health.out
    report = json.loads(health.out)[0]
    assert report["healthy"] and {c["name"] for c in report["checks"]} >= {"chain_id", "syncing"}
    address = deploy(url)
    head = int(rpc(url, "eth_blockNumber"), 16)
    down = run("chain", "down", "ethereum", "-n", "local", "--root", root, cwd=workspace)
    assert down.code == 0 and "stopped" in down.out
    assert not pid_alive(pid)
    assert run("chain", "status", "ethereum", "-n", "local", "--root", root, cwd=workspace).code == 1
    assert (root / "nodes/chains/ethereum/data/local/anvil/state.json").stat().st_size > 0
    assert run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace).code == 0
    assert rpc(url, "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
    assert int(rpc(url, "eth_blockNumber"), 16) >= head
    logs = run("chain", "logs", "ethereum", "-n", "local", "--root", root, "--lines", "500", cwd=workspace)
    assert "mevops: starting" in logs.out and "Listening on 127.0.0.1" in logs.out
    # anvil prints its dev accounts' private keys and mnemonic: they never reach our logs
    log_text = "".join(p.read_text() for p in (root / "nodes/chains/ethereum/logs/application").glob("*.log*"))
    assert "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" not in log_text
    assert "test test test" not in log_text and "[redacted by mevops]" in log_text


def test_two_chains_side_by_side_with_their_own_ids(node_env, run):
    workspace, root = node_env
    for chain in ("ethereum", "arbitrum"):
        assert run("chain", "up", chain, "-n", "local", "--root", root, cwd=workspace).code == 0
    for chain in ("ethereum", "arbitrum"):
        port, chain_id = catalog_port(workspace, chain)
        assert int(rpc(url_of(port), "eth_chainId"), 16) == chain_id


def test_crashed_node_is_restarted_with_backoff(node_env, run):
    workspace, root = node_env
    assert run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace).code == 0
    state_file = root / "nodes/chains/ethereum/data/local/anvil/mevops.pid"
    first = read_state(state_file)["child"]
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = read_state(state_file)
        if state and state.get("child") not in (None, first) and state["state"] == "running":
            break
        time.sleep(0.1)
    assert state["restarts"] == 1 and pid_alive(state["child"])
    port, _ = catalog_port(workspace, "ethereum")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            rpc(url_of(port), "eth_blockNumber")
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise AssertionError("restarted anvil never answered")


def test_port_taken_by_something_else_is_refused_and_nothing_started(node_env, run):
    import socket

    workspace, root = node_env
    port, _ = catalog_port(workspace, "ethereum")
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        result = run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace)
    finally:
        squatter.close()
    assert result.code == 2 and f"port {port} is already taken" in result.err
    assert not (root / "nodes/chains/ethereum/data/local/anvil/mevops.pid").exists()


def test_data_dir_held_by_another_process_is_refused(node_env, run):
    import subprocess
    import sys

    workspace, root = node_env
    data = root / "nodes/chains/ethereum/data/local/anvil"
    data.mkdir(parents=True)
    (data / "LOCK").write_text("")
    squatter = subprocess.Popen([sys.executable, "-c", f"f = open({str(data / 'LOCK')!r}); import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        result = run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace)
    finally:
        squatter.kill()
        squatter.wait()
    assert result.code == 2 and "data dir is in use by pid" in result.err
    assert not (data / "mevops.pid").exists()


def test_health_rules_of_a_public_network(start_anvil, tmp_path):
    """A mainnet-like node that answers but sits at block 0 with a stale head is unhealthy."""
    import asyncio

    from mevops.lifecycle.base import Node
    from mevops.lifecycle.health import check_node
    from mevops.render.context import HealthView, NetworkView

    url, _ = start_anvil(chain_id=1)
    port = int(url.rsplit(":", 1)[1])

    class _Client:
        name, role, service = "geth", "execution", "ethereum-mainnet-geth"
        health = HealthView("eth_syncing", port, "rpc", None, url)

    network = NetworkView("mainnet", "mainnet", 1, 100, "process", str(tmp_path), None, None, [_Client()])
    node = Node(type("C", (), {"name": "ethereum", "dir": str(tmp_path)})(), network, tmp_path)
    time.sleep(1.1)
    report = asyncio.run(check_node(node))[0]
    checks = {c.name: c for c in report.checks}
    assert not report.healthy
    assert checks["chain_id"].ok and checks["syncing"].ok
    assert not checks["head"].ok and "block 0" in checks["head"].detail
    assert not checks["head_age"].ok  # older than 5 x the 100 ms block time
    assert checks["peers"].ok and "not supported" in checks["peers"].detail  # anvil has no net_peerCount
    wrong = NetworkView("mainnet", "mainnet", 10, 12_000, "process", str(tmp_path), None, None, [_Client()])
    report = asyncio.run(check_node(Node(node.chain, wrong, tmp_path)))[0]
    assert not {c.name: c for c in report.checks}["chain_id"].ok


@pytest.mark.parametrize("args,fragment", [
    (("chain", "up", "dogechain", "-n", "local"), "unknown chain"),
    (("chain", "up", "ethereum", "-n", "devnet"), "unknown network"),
    (("chain", "up", "ethereum", "-n", "local", "--backend", "nomad"), "unknown backend"),
    (("chain", "up", "bsc", "-n", "local"), "bsc binary is missing" if False else "anvil binary is missing"),
])
def test_bad_input(node_env, run, args, fragment):
    workspace, root = node_env
    result = run(*args, "--root", root, cwd=workspace)
    assert result.code == 2, result.out
    assert fragment in result.err and "Traceback" not in result.err


def test_health_flags_divergence_and_lag(node_env, run, start_anvil):
    workspace, root = node_env
    assert run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace).code == 0
    port, chain_id = catalog_port(workspace, "ethereum")
    # an unrelated chain with the same id: same heights, different hashes
    other, _ = start_anvil(chain_id=chain_id)
    rpc(other, "eth_sendTransaction", [{"from": DEV, "to": "0x000000000000000000000000000000000000bEEF", "value": "0x1"}])
    rpc(url_of(port), "anvil_mine", ["0x2"])  # past genesis: two fresh anvils may share a genesis hash
    ours = int(rpc(url_of(port), "eth_blockNumber"), 16)
    rpc(other, "anvil_mine", [hex(ours + 2)])
    result = run("chain", "health", "ethereum", "-n", "local", "--root", root, "--reference", other, "--json", cwd=workspace)
    assert result.code == 1
    checks = {c["name"]: c for c in json.loads(result.out)[0]["checks"]}
    assert not checks["divergence"]["ok"] and "different hash" in checks["divergence"]["detail"]
    rpc(other, "anvil_mine", [hex(50)])
    lagging = json.loads(run("chain", "health", "ethereum", "-n", "local", "--root", root, "--reference", other, "--json", cwd=workspace).out)
    assert not {c["name"]: c for c in lagging[0]["checks"]}["lag"]["ok"]
    same = run("chain", "health", "ethereum", "-n", "local", "--root", root, "--reference", url_of(port), cwd=workspace)
    assert same.code == 0


def test_health_of_a_stopped_node_fails(node_env, run):
    workspace, root = node_env
    result = run("chain", "health", "ethereum", "-n", "local", "--root", root, "--json", cwd=workspace)
    assert result.code == 1
    assert "unreachable" in json.loads(result.out)[0]["checks"][0]["detail"]


def test_backup_restore_round_trip(node_env, run):
    workspace, root = node_env
    port, _ = catalog_port(workspace, "ethereum")
    url = url_of(port)
    assert run("chain", "up", "ethereum", "-n", "local", "--root", root, cwd=workspace).code == 0
    address = deploy(url)
    backup = run("chain", "backup", "ethereum", "-n", "local", "--root", root, "--json", cwd=workspace)
    assert backup.code == 0, backup.err
    archive = Path(json.loads(backup.out)["archive"])
    assert rpc(url, "eth_getCode", [address, "latest"]) == "0x" + RUNTIME  # restarted after the backup
    victim = "0x000000000000000000000000000000000000dEaD"
    rpc(url, "anvil_setBalance", [victim, hex(10**20)])
    rpc(url, "anvil_setCode", [address, "0x00"])
    rpc(url, "evm_mine")
    restored = run("chain", "restore", "ethereum", str(archive), "-n", "local", "--root", root, cwd=workspace)
    assert restored.code == 0, restored.err
    assert rpc(url, "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
    assert int(rpc(url, "eth_getBalance", [victim, "latest"]), 16) == 0
    # a corrupted archive is refused before anything is touched
    bad = archive.with_name("corrupt.tar.gz")
    bad.write_bytes(archive.read_bytes()[:-200])
    result = run("chain", "restore", "ethereum", str(bad), "-n", "local", "--root", root, cwd=workspace)
    assert result.code == 1 and "not restoring" in result.err
    assert rpc(url, "eth_getCode", [address, "latest"]) == "0x" + RUNTIME


def test_backup_retention(node_env, run):
    workspace, root = node_env
    (root / "nodes/chains/ethereum/data/local/anvil").mkdir(parents=True)
    (root / "nodes/chains/ethereum/data/local/anvil/state.json").write_text("{}")
    archives = []
    for _ in range(3):
        result = run("chain", "backup", "ethereum", "-n", "local", "--root", root, "--keep", "2", "--json", cwd=workspace)
        archives.append(Path(json.loads(result.out)["archive"]))
        time.sleep(1.05)
    assert not archives[0].exists() and archives[1].exists() and archives[2].exists()


# -- install against a loopback HTTP server ----------------------------------------------------
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def release_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = lambda *a, **k: _Quiet(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _archive(path: Path, payload: bytes) -> str:
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("fakegeth/bin/geth")
        info.size = len(payload)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_install_download_verify_switch(workspace, tmp_path, run, release_server):
    served, base = release_server
    good1 = _archive(served / "geth-1.0.tgz", b"#!/bin/sh\necho geth 1.0\n")
    good2 = _archive(served / "geth-2.0.tgz", b"#!/bin/sh\necho geth 2.0\n")
    _archive(served / "geth-evil.tgz", b"#!/bin/sh\necho pwned\n")
    chain_file = workspace / "chains/ethereum.yml"
    text = chain_file.read_text()
    releases = (
        "    install:\n      source: url\n      default_version: '1.0'\n      releases:\n"
        f"        '1.0': {{url: {base}/geth-1.0.tgz, sha256: {good1}, member: fakegeth/bin/geth}}\n"
        f"        '2.0': {{url: {base}/geth-2.0.tgz, sha256: {good2}, member: fakegeth/bin/geth}}\n"
        f"        '6.6.6': {{url: {base}/geth-evil.tgz, sha256: {good1}, member: fakegeth/bin/geth}}\n"
    )
    marker = "    image: ethereum/client-go"
    assert marker in text
    chain_file.write_text(text.replace(marker, releases + marker, 1))
    root = tmp_path / "root"
    args = ("chain", "install", "ethereum", "--client", "geth", "--root", root)
    first = run(*args, cwd=workspace)
    assert first.code == 0, first.err
    home = root / "nodes/chains/ethereum/binaries/geth"
    assert os.readlink(home / "current") == "1.0"
    assert (home / "current/geth").read_bytes().endswith(b"geth 1.0\n")
    assert run(*args, "--version", "2.0", cwd=workspace).code == 0
    assert os.readlink(home / "current") == "2.0" and (home / "1.0/geth").exists()  # old kept for rollback
    evil = run(*args, "--version", "6.6.6", cwd=workspace)
    assert evil.code == 2 and "checksum mismatch" in evil.err
    assert os.readlink(home / "current") == "2.0" and not (home / "6.6.6").exists()
    assert not [p for p in home.iterdir() if p.name.startswith(".download")]
    missing = run(*args, "--version", "9.9", cwd=workspace)
    assert missing.code == 2 and "no pinned release '9.9'" in missing.err


@pytest.mark.skipif(os.environ.get("MEVOPS_OFFLINE") == "1", reason="MEVOPS_OFFLINE=1: no npm registry")
def test_install_anvil_from_the_npm_registry(workspace, tmp_path, run):
    result = run("chain", "install", "ethereum", "--client", "anvil", "--root", tmp_path / "root", cwd=workspace)
    if result.code == 2 and "download" in result.err:
        pytest.skip(f"npm registry unreachable: {result.err.strip()}")
    assert result.code == 0, result.err
    binary = tmp_path / "root/nodes/chains/ethereum/binaries/anvil/current/anvil"
    assert os.access(binary, os.X_OK)
    shutil.rmtree(tmp_path / "root")
