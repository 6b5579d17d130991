"""Node deployment artefacts of the reference render (nodes/chains/<chain>/: docker compose, kubernetes,
systemd, scripts, client configs): each kind through its real validator, for all three environments,
and the behaviour a validator cannot see (wiring, resources, health checks that really ask a node).

The three environments render the node artefacts identically apart from the target root and the
environment's name; a file whose text is identical (modulo those) to one already validated gets the
same verdict, so each validator runs once per distinct text, in as few invocations as possible.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ENVIRONMENTS, files, require_tool, run_tool

YAMLLINT_CONFIG = "{extends: relaxed, rules: {line-length: disable}}"
CHAINS = "nodes/chains"


# --- helpers ---------------------------------------------------------------------------------------
def distinct(rendered: dict[str, Path], pattern: str) -> list[Path]:
    """Every file matching ``pattern`` in every environment, minus repeats of an already listed text."""
    seen: dict[str, set[str]] = {}
    out = []
    for env in ENVIRONMENTS:
        root = rendered[env]
        for path in files(root, pattern):
            rel = path.relative_to(root).as_posix()
            text = path.read_text().replace(str(root), "<root>").replace(f"({env})", "(<env>)")
            if text not in seen.setdefault(rel, set()):
                seen[rel].add(text)
                out.append(path)
    return out


def run_parallel(argv: list[str], paths: list[Path], jobs: int = 2) -> list[subprocess.CompletedProcess[str]]:
    """``argv + paths`` split over ``jobs`` concurrent processes (for per-file-slow tools)."""
    chunks = [paths[i::jobs] for i in range(jobs) if paths[i::jobs]]
    procs = [subprocess.Popen([*argv, *map(str, chunk)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for chunk in chunks]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, ""))
    return results


@pytest.fixture(scope="module")
def contexts(rendered):
    """env → the RenderContext the tree was rendered from (the expectations)."""
    from mevops.render.run import RenderRequest, load_context
    from mevops.workspace import Workspace

    ws = Workspace.open(rendered[ENVIRONMENTS[0]].parent / "workspace")
    return {env: load_context(ws, RenderRequest(rendered[env], env)) for env in ENVIRONMENTS}


def compose(root: Path, chain: str) -> dict:
    return yaml.safe_load((root / CHAINS / chain / "deployment/docker-compose.yml").read_text())


def k8s(root: Path, chain: str, network: str, name: str) -> dict:
    return yaml.safe_load((root / CHAINS / chain / "deployment/kubernetes" / network / name).read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeNode:
    """A node API on a free port: JSON-RPC (eth_*, net_peerCount) and the beacon / mev-boost GETs."""

    def __init__(self, syncing: object = False, peers: int = 5) -> None:
        node = self
        self.syncing, self.peers = syncing, peers

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _send(self, obj: object) -> None:
                body = json.dumps(obj, separators=(",", ":")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                result = {"eth_syncing": node.syncing, "eth_blockNumber": "0x1f", "net_peerCount": hex(node.peers)}
                self._send({"jsonrpc": "2.0", "id": req["id"], "result": result.get(req["method"])})

            def do_GET(self) -> None:
                if self.path == "/eth/v1/node/syncing":
                    self._send({"data": {"head_slot": "77", "is_syncing": node.syncing is not False}})
                elif self.path == "/eth/v1/node/peer_count":
                    self._send({"data": {"disconnected": "3", "connected": str(node.peers)}})
                else:
                    self._send({})

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_node():
    nodes: list[FakeNode] = []

    def _make(**kwargs: object) -> FakeNode:
        nodes.append(FakeNode(**kwargs))
        return nodes[-1]

    yield _make
    for node in nodes:
        node.close()


def with_port(script: str, old: int, new: int) -> str:
    """A health script aimed at another port (http://127.0.0.1:P and /dev/tcp/127.0.0.1/P)."""
    return re.sub(rf"127\.0\.0\.1([:/]){old}\b", rf"127.0.0.1\g<1>{new}", script)


def minimal_path(tmp_path: Path) -> str:
    """A PATH with a shell and coreutils-ish tools but neither curl nor wget (like many node images)."""
    bin_dir = tmp_path / "minbin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("sh", "bash", "cat", "head", "grep"):
        target = bin_dir / tool
        if not target.exists():
            target.symlink_to(shutil.which(tool))
    return str(bin_dir)


# --- validators ------------------------------------------------------------------------------------
def test_compose_files_match_the_compose_spec(rendered):
    tool = require_tool("check-jsonschema")
    paths = distinct(rendered, f"{CHAINS}/*/deployment/docker-compose.yml")
    assert len(paths) >= 8
    result = run_tool(tool, "--builtin-schema", "vendor.compose-spec", *paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_manifests_validate_strictly(rendered):
    tool = require_tool("kubernetes-validate")
    paths = [p for p in distinct(rendered, f"{CHAINS}/*/deployment/kubernetes/*/*.yaml") if p.name != "kustomization.yaml"]
    assert any(p.name.endswith("-statefulset.yaml") for p in paths) and any(p.name.endswith("-deployment.yaml") for p in paths)
    for result in run_parallel([tool, "--strict", "--no-warn"], paths):
        failed = [line for line in result.stdout.splitlines() if not line.startswith("INFO")]
        assert result.returncode == 0 and not failed, "\n".join(failed)


def test_node_yaml_passes_yamllint(rendered):
    tool = require_tool("yamllint")
    paths = [*distinct(rendered, f"{CHAINS}/*/deployment/docker-compose.yml"),
             *distinct(rendered, f"{CHAINS}/*/deployment/kubernetes/*/*.yaml"),
             *distinct(rendered, f"{CHAINS}/*/config/*.yaml")]
    for result in run_parallel([tool, "-s", "-f", "parsable", "-d", YAMLLINT_CONFIG], paths):
        assert result.returncode == 0, result.stdout


def test_systemd_units_verify(rendered):
    """systemd-analyze verify runs offline; it checks ExecStart binaries exist, so stubs stand in."""
    tool = require_tool("systemd-analyze")
    for env in ENVIRONMENTS:
        units = files(rendered[env], f"{CHAINS}/*/deployment/systemd/*.service")
        created: list[Path] = []  # the outermost new directory (or file) of each stub, removed after
        try:
            for unit in units:
                binary = Path(re.search(r"^ExecStart=(\S+)", unit.read_text(), re.MULTILINE)[1])
                if not binary.exists():
                    outermost = next(p for p in [*reversed(binary.parents), binary] if not p.exists())
                    binary.parent.mkdir(parents=True, exist_ok=True)
                    binary.write_text("#!/bin/sh\nexit 0\n")
                    binary.chmod(0o755)
                    created.append(outermost)
            result = run_tool(tool, "verify", "--man=no", *units)
        finally:
            for path in created:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        # verify exits 0 on settings it ignores, but says so: any output is a finding
        assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_scripts_pass_shellcheck(rendered):
    tool = require_tool("shellcheck")
    paths = distinct(rendered, f"{CHAINS}/*/scripts/*.sh")
    assert {p.name for p in paths} == {"node.sh", "start.sh", "stop.sh", "health-check.sh", "backup.sh"}
    for result in run_parallel([tool, "-x", "-f", "gcc"], paths):
        assert result.returncode == 0, result.stdout


def test_scripts_are_executable_bash(rendered):
    for path in files(rendered["development"], f"{CHAINS}/*/scripts/*.sh"):
        assert path.stat().st_mode & 0o111, path
        assert path.read_text().startswith("#!/usr/bin/env bash\n"), path
        assert "\nset -euo pipefail\n" in path.read_text(), path


# --- client configs --------------------------------------------------------------------------------
NATIVE = {"toml": tomllib.loads, "json": json.loads}
PORTLESS = {"reth", "op-reth"}  # reth.toml has no port settings: reth takes them as flags only


def numbers_in(data: object) -> set[int]:
    """Integers in a parsed config, including the port of "host:port" strings."""
    if isinstance(data, dict):
        return set().union(*(numbers_in(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(numbers_in(v) for v in data)) if data else set()
    if isinstance(data, bool):
        return set()
    if isinstance(data, int):
        return {data}
    if isinstance(data, str) and (m := re.search(r":(\d+)$", data)):
        return {int(m[1])}
    return set()


def check_client_config(root: Path, chain, network, client) -> None:
    path = root / CHAINS / chain.name / "config" / client.config_file
    assert path.is_file(), path
    text = path.read_text()
    if client.config_format == "flags":
        assert yaml.safe_load(text)["flags"] == client.flags["host"]
        return
    data = NATIVE[client.config_format](text)
    assert data, path
    host_flags = client.flags["host"]
    # the file is what the client reads: a --config-style flag names it
    assert any(flag.endswith("=" + client.config_path) for flag in host_flags), (client.name, host_flags)
    # every port of the client is set once: in the file or in a flag, never both (no duplicate to disagree)
    in_file = numbers_in(data)
    for name, port in client.ports.items():
        in_flags = any(re.search(rf"(=|:){port}\b", f) for f in host_flags)
        assert (port in in_file) != in_flags, (path, name, port)
    if client.name not in PORTLESS:
        assert client.health.port in in_file, path
    if client.name in ("geth", "bsc"):
        assert data["Eth"]["NetworkId"] == network.chain_id
    if client.name == "nitro":
        assert data["chain"]["id"] == network.chain_id
        assert data["http"]["port"] == client.ports["rpc"]


def test_client_configs_parse_and_carry_ports_and_chain_id(rendered, contexts):
    formats = set()
    for env, ctx in contexts.items():
        for chain in ctx.chains:
            for network in chain.networks:
                for client in network.clients:
                    check_client_config(rendered[env], chain, network, client)
                    formats.add(client.config_format)
    assert formats == {"toml", "json", "flags"}


@pytest.mark.parametrize("chain_name, role, client_name", [
    ("ethereum", "execution", "erigon"), ("ethereum", "execution", "reth"), ("ethereum", "execution", "nethermind"),
    ("ethereum", "execution", "besu"), ("optimism", "execution", "op-geth"),
])
def test_selectable_clients_render_their_native_config(rendered, tmp_path, chain_name, role, client_name):
    """Clients the reference workspace does not select still render a config their flags point at."""
    from mevops.config.validate import validate_workspace
    from mevops.reference import templates_root
    from mevops.render.context import build_context
    from mevops.render.plan import Planner
    from mevops.workspace import Workspace

    report = validate_workspace(Workspace.open(rendered["development"].parent / "workspace"), "development")
    report.config.chains[chain_name].clients[role] = client_name
    ctx = build_context(report.config, report.catalog, report.strategies, tmp_path, "development")
    planner = Planner(templates_root(), ctx)
    planner.names = [n for n in planner.names if n.startswith("chain/clients/")]
    for planned in planner.plan():
        (tmp_path / planned.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / planned.path).write_bytes(planned.content)
    chain = next(c for c in ctx.chains if c.name == chain_name)
    for network in chain.networks:
        client = network.client(role)
        if network.key != "local":
            assert client is not None and client.name == client_name
            check_client_config(tmp_path, chain, network, client)


# --- docker compose behaviour -----------------------------------------------------------------------
def test_ethereum_compose_wires_geth_lighthouse_and_mev_boost(rendered):
    services = compose(rendered["development"], "ethereum")["services"]
    for network in ("mainnet", "testnet"):
        geth, lighthouse, boost = (services[f"ethereum-{network}-{c}"] for c in ("geth", "lighthouse", "mev-boost"))
        for svc in (geth, lighthouse, boost):
            assert svc["profiles"] == [network]
            assert svc["restart"] == "unless-stopped"
        jwt = [v for v in geth["volumes"] if v.endswith(":/secrets/jwt.hex:ro")]
        assert jwt and jwt == [v for v in lighthouse["volumes"] if v.endswith(":/secrets/jwt.hex:ro")]
        assert jwt[0].startswith(str(rendered["development"] / CHAINS / "ethereum/config/jwt" / network))
        assert lighthouse["depends_on"] == {f"ethereum-{network}-geth": {"condition": "service_healthy", "restart": True}}
        assert int(geth["stop_grace_period"].rstrip("s")) >= 180
        assert "eth_syncing" in geth["healthcheck"]["test"][1]
        assert "/eth/v1/node/syncing" in lighthouse["healthcheck"]["test"][1]
        assert "/eth/v1/builder/status" in boost["healthcheck"]["test"][1]
        auth = [p for p in geth["ports"] if p.endswith((":8551", ":9551"))]
        assert auth and all(p.startswith("127.0.0.1:") for p in auth), geth["ports"]
        assert any(re.fullmatch(r"\d+:\d+/udp", p) for p in geth["ports"])  # p2p on every interface
        engine = next(f for f in lighthouse["command"] if f.startswith("--execution-endpoint="))
        assert engine.startswith(f"--execution-endpoint=http://ethereum-{network}-geth:")
    assert services["ethereum-local-anvil"]["profiles"] == ["local"]
    assert services["ethereum-local-anvil"]["network_mode"] == "host"


def test_every_compose_service_is_complete(rendered, contexts):
    names = set()
    for chain in contexts["development"].chains:
        doc = compose(rendered["development"], chain.name)
        assert doc["name"] not in names  # one compose project per chain
        names.add(doc["name"])
        services = doc["services"]
        assert set(services) == {c.service for c in chain.all_clients}
        for network in chain.networks:
            for client in network.clients:
                svc = services[client.service]
                assert svc["profiles"] == [network.key]
                assert svc["image"] == client.image
                assert svc["command"] == [f.replace("$", "$$") for f in client.flags["compose"]]
                assert svc["stop_grace_period"] == f"{client.stop_grace_period}s"
                assert svc["labels"]["io.mevops.chain"] == chain.name and svc["labels"]["io.mevops.role"] == client.role
                assert svc["healthcheck"]["test"][0] == "CMD-SHELL"
                assert f"{client.data_dir}:/data" in svc["volumes"]
                assert f"{chain.dir}/config:/config:ro" in svc["volumes"]
                if client.uses_host_gateway:
                    assert svc["extra_hosts"] == ["host.docker.internal:host-gateway"]
                for port in client.ports.values():
                    assert any(p.split("/")[0].endswith(f":{port}") for p in svc.get("ports", [])) or network.key == "local"


def test_l1_ports_l2_containers_use_are_published_on_the_docker_gateway(rendered):
    services = compose(rendered["development"], "ethereum")["services"]
    assert "${MEVOPS_DOCKER_GATEWAY_IP:-172.17.0.1}:8545:8545" in services["ethereum-mainnet-geth"]["ports"]
    assert "${MEVOPS_DOCKER_GATEWAY_IP:-172.17.0.1}:5052:5052" in services["ethereum-mainnet-lighthouse"]["ports"]
    assert not any("172.17" in p for p in services["ethereum-mainnet-mev-boost"]["ports"])
    op_node = compose(rendered["development"], "optimism")["services"]["optimism-mainnet-op-node"]
    assert "--l1=http://host.docker.internal:8545" in op_node["command"]


def test_compose_healthchecks_ask_the_node(rendered, fake_node, tmp_path):
    """The healthcheck command answers 0 for a node that answers, 1 otherwise, with or without curl."""
    services = compose(rendered["development"], "ethereum")["services"]
    no_curl = minimal_path(tmp_path)
    for name, port in (("ethereum-mainnet-geth", 8545), ("ethereum-mainnet-lighthouse", 5052),
                       ("ethereum-mainnet-mev-boost", 18550)):
        script = services[name]["healthcheck"]["test"][1].replace("$$", "$")
        node = fake_node(syncing={"currentBlock": "0x1"})  # syncing still counts as alive
        live = with_port(script, port, node.port)
        assert subprocess.run(["sh", "-c", live], check=False, timeout=30).returncode == 0, name
        assert subprocess.run([f"{no_curl}/sh", "-c", live], check=False, env={"PATH": no_curl}, timeout=30).returncode == 0, name
        dead = with_port(script, port, free_port())
        assert subprocess.run(["sh", "-c", dead], check=False, capture_output=True, timeout=30).returncode != 0, name
        assert subprocess.run([f"{no_curl}/sh", "-c", dead], check=False, env={"PATH": no_curl}, capture_output=True, timeout=30).returncode != 0


# --- kubernetes behaviour ---------------------------------------------------------------------------
def test_kubernetes_objects_follow_the_catalog(rendered, contexts):
    root = rendered["production"]
    for chain in contexts["production"].chains:
        for network in chain.networks:
            kdir = root / CHAINS / chain.name / "deployment/kubernetes" / network.key
            if network.key == "local":
                assert not kdir.exists()
                continue
            kustomization = yaml.safe_load((kdir / "kustomization.yaml").read_text())
            assert kustomization["namespace"] == network.namespace
            assert set(kustomization["resources"]) == {p.name for p in kdir.glob("*.yaml")} - {"kustomization.yaml"}
            for client in network.clients:
                kind = "statefulset" if client.stateful else "deployment"
                workload = k8s(root, chain.name, network.key, f"{client.name}-{kind}.yaml")
                spec = workload["spec"]["template"]["spec"]
                container = spec["containers"][0]
                assert workload["spec"]["replicas"] == 1
                assert spec["terminationGracePeriodSeconds"] == client.stop_grace_period
                assert container["args"] == client.flags["kubernetes"]
                res = client.catalog.resources
                assert container["resources"] == {"requests": {"cpu": res.cpu_request, "memory": res.memory_request},
                                                  "limits": {"cpu": res.cpu_limit, "memory": res.memory_limit}}
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    handler = container[probe]
                    assert "httpGet" in handler or "exec" in handler
                    if "exec" in handler:
                        assert str(client.health.port) in handler["exec"]["command"][2]
                    else:
                        assert handler["httpGet"]["port"] == client.health.port
                service = k8s(root, chain.name, network.key, f"{client.name}-service.yaml")
                assert service["metadata"]["name"] == client.service
                assert {p["port"] for p in service["spec"]["ports"]} == set(client.ports.values())
                assert service["spec"]["selector"] == workload["spec"]["selector"]["matchLabels"]
                config = k8s(root, chain.name, network.key, f"{client.name}-configmap.yaml")
                assert client.config_file in config["data"]
                if client.stateful:
                    assert workload["spec"]["serviceName"] == client.service
                    pvc = k8s(root, chain.name, network.key, f"{client.name}-pvc.yaml")
                    expected = res.storage_testnet if network.key == "testnet" and res.storage_testnet else res.storage
                    assert pvc["spec"]["resources"]["requests"]["storage"] == f"{math.ceil(expected / 2**30)}Gi"
                    claim = next(v for v in spec["volumes"] if v["name"] == "data")["persistentVolumeClaim"]["claimName"]
                    assert claim == pvc["metadata"]["name"]


def test_kubernetes_ethereum_specifics(rendered):
    root = rendered["development"]
    geth = k8s(root, "ethereum", "mainnet", "geth-statefulset.yaml")["spec"]["template"]["spec"]
    lighthouse = k8s(root, "ethereum", "mainnet", "lighthouse-statefulset.yaml")["spec"]["template"]["spec"]
    boost = k8s(root, "ethereum", "mainnet", "mev-boost-deployment.yaml")
    assert boost["kind"] == "Deployment"
    assert k8s(root, "ethereum", "mainnet", "geth-pvc.yaml")["spec"]["resources"]["requests"]["storage"] == "2048Gi"
    assert k8s(root, "ethereum", "testnet", "geth-pvc.yaml")["spec"]["resources"]["requests"]["storage"] == "1024Gi"
    secrets = [[v["secret"]["secretName"] for v in s["volumes"] if "secret" in v] for s in (geth, lighthouse)]
    assert secrets == [["ethereum-mainnet-jwt"], ["ethereum-mainnet-jwt"]]
    assert "eth_syncing" in geth["containers"][0]["livenessProbe"]["exec"]["command"][2]
    assert lighthouse["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/eth/v1/node/syncing"
    p2p = [p for p in geth["containers"][0]["ports"] if p["name"].startswith("p2p")]
    assert {(p["protocol"], p["hostPort"]) for p in p2p} == {("TCP", 30303), ("UDP", 30303)}
    config = k8s(root, "ethereum", "mainnet", "geth-configmap.yaml")["data"]["mainnet.toml"]
    assert tomllib.loads(config)["Node"]["HTTPPort"] == 8545
    agave = k8s(root, "solana", "mainnet", "agave-statefulset.yaml")["spec"]["template"]["spec"]
    assert agave["hostNetwork"] is True  # its dynamic port range cannot go through a Service


# --- systemd behaviour -------------------------------------------------------------------------------
def unit(root: Path, chain: str, name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (root / CHAINS / chain / "deployment/systemd" / f"{name}.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_systemd_units_wire_and_harden(rendered, contexts):
    root = rendered["staging"]
    lighthouse = unit(root, "ethereum", "ethereum-mainnet-lighthouse")
    assert "ethereum-mainnet-geth.service" in lighthouse["After"][0].split()
    assert lighthouse["Requires"] == ["ethereum-mainnet-geth.service"]
    for chain in contexts["staging"].chains:
        for network in chain.networks:
            for client in network.clients:
                u = unit(root, chain.name, client.service)
                assert u["ExecStart"][0].split()[0] == f"{chain.dir}/binaries/{client.name}/current/{client.binary}"
                assert u["TimeoutStopSec"] == [str(client.stop_grace_period)]
                assert u["User"] == ["mevops"] and u["Restart"] == ["on-failure"]
                assert u["NoNewPrivileges"] == ["true"] and u["ProtectSystem"] == ["strict"] and u["PrivateTmp"] == ["true"]
                assert client.data_dir in u["ReadWritePaths"][0] and client.log_dir in u["ReadWritePaths"][0]
                assert u["StandardOutput"] == [f"append:{client.log_dir}/{network.key}-{client.name}.log"]
                assert int(u["LimitNOFILE"][0]) >= 65536
                for dep in client.depends_on:
                    assert f"{dep}.service" in u["After"][0].split() and f"{dep}.service" in u["Requires"]


# --- scripts behaviour ---------------------------------------------------------------------------------
def relocated_chain(rendered: Path, chain: str, dest: Path, ports: dict[int, int]) -> Path:
    """A copy of a rendered chain directory whose scripts point at the copy and at other ports."""
    src = rendered / CHAINS / chain
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("jwt"))
    for script in (dest / "scripts").glob("*.sh"):
        text = script.read_text().replace(str(src), str(dest))
        for old, new in ports.items():
            text = re.sub(rf"(?<![0-9]){old}(?![0-9])", str(new), text)
        script.write_text(text)
    return dest


def test_health_check_script_judges_sync_and_peers(rendered, fake_node, tmp_path):
    geth, lighthouse, boost = fake_node(), fake_node(), fake_node()
    chain = relocated_chain(rendered["development"], "ethereum", tmp_path / "ethereum",
                            {8545: geth.port, 5052: lighthouse.port, 18550: boost.port})
    script = chain / "scripts/health-check.sh"
    ok = subprocess.run(["bash", script, "mainnet"], check=False, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok    ethereum-mainnet-geth: synced at block 31, 5 peers" in ok.stdout
    assert "ok    ethereum-mainnet-lighthouse: synced at slot 77, 5 peers" in ok.stdout
    geth.peers = 0
    no_peers = subprocess.run(["bash", script, "mainnet"], check=False, capture_output=True, text=True, timeout=60)
    assert no_peers.returncode == 1 and "FAIL  ethereum-mainnet-geth: synced at block 31 but has no peers" in no_peers.stdout
    geth.syncing = lighthouse.syncing = {"currentBlock": "0x1", "highestBlock": "0x9"}
    syncing = subprocess.run(["bash", script, "mainnet"], check=False, capture_output=True, text=True, timeout=60)
    assert syncing.returncode == 1 and "FAIL  ethereum-mainnet-geth: still syncing" in syncing.stdout
    assert "FAIL  ethereum-mainnet-lighthouse: still syncing" in syncing.stdout
    bad = subprocess.run(["bash", script, "moonnet"], check=False, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not enabled" in bad.stderr


def test_process_backend_start_health_stop_backup_with_real_anvil(rendered, anvil_binary, tmp_path):
    """start.sh → a detached anvil with a PID file; health-check.sh → healthy; backup --with-data
    refuses while it runs; stop.sh → SIGTERM, anvil dumps its state; backup --with-data keeps it."""
    port = free_port()
    chain = relocated_chain(rendered["development"], "ethereum", tmp_path / "ethereum", {28545: port})
    (chain / "binaries/anvil/current").mkdir(parents=True)
    (chain / "binaries/anvil/current/anvil").symlink_to(anvil_binary)
    scripts = chain / "scripts"
    env = {**os.environ, "BACKUP_DIR": str(tmp_path / "backups")}
    env.pop("BACKEND", None)

    def sh(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", scripts / name, *args], check=False, capture_output=True, text=True, timeout=120, env=env)

    started = sh("start.sh", "local")
    pid_file = chain / "data/local/anvil/anvil.pid"
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "started" in started.stdout and pid_file.is_file()
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 20
        while (health := sh("health-check.sh", "local")).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health.returncode == 0, health.stdout + health.stderr
        assert "ok    ethereum-local-anvil: synced at block" in health.stdout
        assert "already running" in sh("start.sh", "local", "process").stdout
        refused = sh("backup.sh", "local", "--with-data")
        assert refused.returncode == 2 and "is running" in refused.stderr
        keys = sh("backup.sh", "local")
        assert keys.returncode == 0, keys.stderr
        stopped = sh("stop.sh", "local")
        assert stopped.returncode == 0, stopped.stderr
        assert "stopped" in stopped.stdout and not pid_file.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert (chain / "data/local/anvil/state.json").is_file()  # dumped on SIGTERM
    assert "SIGKILL" not in stopped.stderr
    assert (chain / "logs/application/local-anvil.log").is_file()
    full = sh("backup.sh", "local", "--with-data")
    assert full.returncode == 0, full.stderr
    archive = Path(full.stdout.split(":")[0])
    assert archive.stat().st_mode & 0o077 == 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "config/local.yaml" in names and "data/local/anvil/state.json" in names
