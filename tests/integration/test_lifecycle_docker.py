"""The docker backend for real: the Docker SDK talks to podman's Docker-compatible API.

No Docker engine runs here and no registry is reachable, so a session fixture starts
``podman system service`` on a private storage root and socket, and builds the anvil image
locally (the pinned anvil binary, the libraries ``ldd`` lists, busybox-static for a shell and
curl for the healthcheck) tagged as the catalog's image name, so the backend runs unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO
from tests.integration.conftest import require_tool

pytestmark = pytest.mark.slow

CONTAINER = "ethereum-local-anvil"
RUNTIME = "602a60005260206000f3"  # runtime code returning 42; INIT deploys it
INIT = "69" + RUNTIME + "600052600a6016f3"
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first unlocked account


def rpc(url: str, method: str, params: list | None = None):
    import urllib.request

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


def catalog_port(workspace: Path) -> tuple[int, int]:
    import yaml

    data = yaml.safe_load((workspace / "chains/ethereum.yml").read_text())
    return data["clients"]["anvil"]["ports"]["rpc"], data["networks"]["local"]["chain_id"]


def _conf(base: Path) -> dict[str, str]:
    """containers.conf/storage.conf for a private podman: runc, cgroupfs, file events, ulimits the host allows,
    exec sessions (health probes) cleaned up after 5 s rather than 5 min."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 1048576 if hard == resource.RLIM_INFINITY else hard
    (base / "containers.conf").write_text(f"""[containers]
default_ulimits = ["nofile={hard}:{hard}", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 5
events_logfile_path = "{base}/events.log"
tmp_dir = "{base}/tmp"
[network]
network_config_dir = "{base}/networks"
""")
    (base / "storage.conf").write_text(f"""[storage]
driver = "vfs"
runroot = "{base}/run"
graphroot = "{base}/graph"
""")
    return {**os.environ, "CONTAINERS_CONF": str(base / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(base / "storage.conf")}


def _with_libraries(rootfs: Path, binary: Path, name: str) -> None:
    """Copy ``binary`` to /bin/NAME and every library ``ldd`` lists to the same path in ``rootfs``."""
    shutil.copy(binary.resolve(), rootfs / "bin" / name)
    listing = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        path = next((w for w in line.split() if w.startswith("/")), None)
        if path:
            target = rootfs / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(path).resolve(), target)


def _anvil(tmp: Path) -> Path:
    """The pinned anvil: the test tools' copy, else `mevops chain install`'s download of the catalog release."""
    for candidate in (REPO / ".tools/bin/anvil", shutil.which("anvil")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    from mevops.catalog import load_chain
    from mevops.lifecycle.install import install_client

    spec = load_chain(REPO / "chains/ethereum.yml").clients["anvil"]
    return install_client(tmp / "binaries", "anvil", spec.binary, spec.install, None).path


def _build_image(podman: str, env: dict[str, str], base: Path, image: str) -> None:
    busybox = shutil.which("busybox", path="/bin:/usr/bin")
    linked = subprocess.run(["ldd", busybox], capture_output=True, text=True, check=False) if busybox else None
    if linked is None or "not a dynamic" not in linked.stdout + linked.stderr:
        pytest.skip("busybox-static is not installed (scripts/install-test-tools installs it)")
    rootfs = base / "rootfs"
    for sub in ("bin", "data", "tmp", "etc"):
        (rootfs / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(busybox, rootfs / "bin/busybox")
    for applet in ("sh", "cat", "ls", "sleep", "wget"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    _with_libraries(rootfs, _anvil(base), "anvil")
    _with_libraries(rootfs, Path(require_tool("curl")), "curl")  # the healthcheck's first choice
    archive = base / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(rootfs, arcname=".")
    done = subprocess.run([podman, "import", "--change", "ENV PATH=/bin", str(archive), image], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode:
        pytest.skip(f"podman import failed here: {done.stderr.strip()[-300:]}")


@pytest.fixture(scope="session")
def podman_api(tmp_path_factory):
    """A Docker-compatible API served by podman on a private socket, with the catalog's anvil image."""
    podman = require_tool("podman")
    require_tool("runc")
    from mevops.catalog import load_chain

    image = load_chain(REPO / "chains/ethereum.yml").clients["anvil"].image
    base = tmp_path_factory.mktemp("podman")
    env = _conf(base)
    _build_image(podman, env, base, image)
    probe = subprocess.run([podman, "run", "--rm", "--network", "host", image, "/bin/anvil", "--version"], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode:
        pytest.skip(f"podman cannot run containers here: {probe.stderr.strip()[-300:]}")
    sock = base / "api.sock"
    with open(base / "service.log", "wb") as log:
        service = subprocess.Popen([podman, "system", "service", "--time=0", f"unix://{sock}"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_api(f"unix://{sock}", service, base / "service.log")
        yield SimpleNamespace(url=f"unix://{sock}", env=env, podman=podman, image=image)
    finally:
        subprocess.run([podman, "rm", "--all", "--force", "--time", "0"], env=env, capture_output=True, timeout=120, check=False)
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()


def _wait_for_api(url: str, service: subprocess.Popen, log: Path) -> None:
    import docker

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and service.poll() is None:
        try:
            docker.DockerClient(base_url=url, timeout=5).ping()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    pytest.skip(f"podman system service did not answer at {url}: {log.read_text()[-300:]}")


@pytest.fixture
def docker_node(workspace, tmp_path, podman_api, run):
    """The workspace's anvil moved to a free port: the host network is shared with other anvils (process backend)."""
    chain_file, catalog = workspace / "chains/ethereum.yml", f"ports: {{rpc: {catalog_port(workspace)[0]}}}"
    assert catalog in chain_file.read_text()
    chain_file.write_text(chain_file.read_text().replace(catalog, f"ports: {{rpc: {_free_port()}}}"))
    root = tmp_path / "root"
    env = {"DOCKER_HOST": podman_api.url}
    yield workspace, root, env
    run("chain", "down", "ethereum", "-n", "local", "-b", "docker", "--root", root, cwd=workspace, env=env)


def _chain(run, workspace, root, env, *args):
    return run("chain", *args[:1], "ethereum", "-n", "local", "-b", "docker", "--root", root, *args[1:], cwd=workspace, env=env)


def test_up_status_logs_down_keeps_state(docker_node, run, podman_api):
    import docker

    from mevops.lifecycle.docker import alive_script

    workspace, root, env = docker_node
    port, chain_id = catalog_port(workspace)
    up = _chain(run, workspace, root, env, "up")
    assert up.code == 0, up.err
    assert "running" in up.out and "health=healthy" in up.out
    url = f"http://127.0.0.1:{port}"
    assert int(rpc(url, "eth_chainId"), 16) == chain_id

    api = docker.DockerClient(base_url=podman_api.url)
    container = api.containers.get(CONTAINER)
    attrs = container.attrs
    assert attrs["Config"]["Image"].endswith(podman_api.image.split("/", 1)[1]) or podman_api.image in attrs["Config"]["Image"]
    assert container.labels["io.mevops.chain"] == "ethereum" and container.labels["io.mevops.network"] == "local"
    assert container.labels["io.mevops.client"] == "anvil" and container.labels["io.mevops.role"] == "devnet"
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert attrs["HostConfig"]["NetworkMode"] == "host"
    mounts = {m["Destination"]: m["Source"] for m in attrs["Mounts"]}
    assert mounts["/data"] == str(root / "nodes/chains/ethereum/data/local/anvil")
    node = _node(workspace, root)
    assert attrs["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", alive_script(node.services[0])]
    started = attrs["State"]["StartedAt"]

    again = _chain(run, workspace, root, env, "up", "--json")
    assert again.code == 0, again.err
    assert api.containers.get(CONTAINER).attrs["State"]["StartedAt"] == started  # left alone
    status = _chain(run, workspace, root, env, "status", "--json")
    service = json.loads(status.out)["services"][0]
    assert status.code == 0 and service["state"] == "running" and service["extra"]["health"].startswith("healthy")

    address = deploy(url)
    head = int(rpc(url, "eth_blockNumber"), 16)
    logs = _chain(run, workspace, root, env, "logs", "--lines", "500")
    assert logs.code == 0 and f"Listening on 127.0.0.1:{port}" in logs.out
    assert "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" not in logs.out  # anvil's dev key

    down = _chain(run, workspace, root, env, "down")
    assert down.code == 0 and "stopped" in down.out
    with pytest.raises(docker.errors.NotFound):
        api.containers.get(CONTAINER)
    assert _chain(run, workspace, root, env, "status").code == 1
    assert (root / "nodes/chains/ethereum/data/local/anvil/state.json").stat().st_size > 0  # dumped on stop

    assert _chain(run, workspace, root, env, "up").code == 0
    assert rpc(url, "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
    assert int(rpc(url, "eth_blockNumber"), 16) >= head


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node(workspace: Path, root: Path):
    from mevops.lifecycle.nodes import resolve_node
    from mevops.workspace import Workspace

    ws = Workspace.open(workspace)
    return resolve_node(ws, ws.environment(None), root, "ethereum", "local")


def test_changed_configuration_recreates_the_container(docker_node, podman_api, monkeypatch):
    import docker

    from mevops.lifecycle.docker import DockerBackend

    workspace, root, _ = docker_node
    monkeypatch.setenv("DOCKER_HOST", podman_api.url)
    backend = DockerBackend()
    node = _node(workspace, root)
    assert backend.up(node)[0].state == "running"
    api = docker.DockerClient(base_url=podman_api.url)
    first = api.containers.get(CONTAINER).id
    assert backend.up(node)[0].state == "running" and api.containers.get(CONTAINER).id == first
    node.services[0].flags["compose"].append("--accounts=3")
    assert backend.up(node)[0].state == "running"
    recreated = api.containers.get(CONTAINER)
    assert recreated.id != first and "--accounts=3" in recreated.attrs["Config"]["Cmd"]
    assert len(rpc(f"http://127.0.0.1:{catalog_port(workspace)[0]}", "eth_accounts")) == 3  # the new flag took effect


def test_port_taken_on_the_host_network_is_refused(docker_node, podman_api, run):
    import socket

    import docker

    workspace, root, env = docker_node
    port, _ = catalog_port(workspace)
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
    except OSError:
        pass  # something else already holds it: the refusal is the same
    try:
        result = _chain(run, workspace, root, env, "up")
    finally:
        squatter.close()
    assert result.code == 2 and f"port {port} is already taken by another process" in result.err
    with pytest.raises(docker.errors.NotFound):
        docker.DockerClient(base_url=podman_api.url).containers.get(CONTAINER)


def test_unreachable_api_is_a_clear_error(workspace, tmp_path, run):
    result = run("chain", "up", "ethereum", "-n", "local", "-b", "docker", "--root", tmp_path / "root", cwd=workspace,
                 env={"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"})
    assert result.code == 2 and "Traceback" not in result.err
    assert f"no Docker/podman API at unix://{tmp_path}/no-such.sock" in result.err and "--backend process" in result.err


def test_unrendered_configuration_is_a_clear_error(workspace, tmp_path, run):
    result = run("chain", "up", "ethereum", "-n", "mainnet", "-b", "docker", "--root", tmp_path / "root", cwd=workspace,
                 env={"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"})
    assert result.code == 2 and "Traceback" not in result.err
    assert "geth configuration is missing; run `mevops render` first" in result.err


def _compose_ports(entries: list[str]) -> set[tuple[str, int, str]]:
    """compose short syntax → {(host ip or "", host port, "container port/proto")}, ranges expanded."""
    found = set()
    for entry in entries:
        entry = entry.replace("${MEVOPS_DOCKER_GATEWAY_IP:-172.17.0.1}", "172.17.0.1")
        mapping, _, proto = entry.partition("/")
        *ip, host, container = mapping.split(":")
        first, _, last = host.partition("-")
        for offset in range(int(last or first) - int(first) + 1):
            found.add((ip[0] if ip else "", int(first) + offset, f"{int(container.split('-')[0]) + offset}/{proto or 'tcp'}"))
    return found


def _spec_ports(ports: dict) -> set[tuple[str, int, str]]:
    found = set()
    for key, value in ports.items():
        for binding in value if isinstance(value, list) else [value]:
            ip, port = binding if isinstance(binding, tuple) else ("", binding)
            found.add((ip, port, key))
    return found


def test_containers_match_the_rendered_compose_file(rendered, monkeypatch):
    """Every service of every chain's compose file, as the backend would create it (no engine needed)."""
    import yaml

    from mevops.lifecycle.base import Node
    from mevops.lifecycle.docker import HASH_LABEL, container_spec, network_name
    from mevops.render.run import RenderRequest, load_context
    from mevops.workspace import Workspace

    monkeypatch.delenv("MEVOPS_DOCKER_GATEWAY_IP", raising=False)
    root = rendered["production"]
    ws = Workspace.open(root.parent / "workspace")
    context = load_context(ws, RenderRequest(root, "production"))
    checked = 0
    for chain in context.chains:
        compose = yaml.safe_load((Path(chain.dir) / "deployment/docker-compose.yml").read_text())["services"]
        for network in chain.networks:
            node = Node(chain, network, root)
            for client in network.clients:
                spec, service = container_spec(node, client), compose[client.service]
                assert spec["image"] == service["image"] and spec["name"] == service["container_name"]
                assert spec["entrypoint"] == service["entrypoint"]
                assert spec["command"] == [flag.replace("$$", "$") for flag in service["command"]]
                assert spec["restart_policy"]["Name"] == service["restart"] and spec["stop_signal"] == service["stop_signal"]
                assert spec["environment"] == service["environment"]
                assert spec["healthcheck"]["test"] == [w.replace("$$", "$") for w in service["healthcheck"]["test"]]
                assert spec["healthcheck"]["start_period"] == int(service["healthcheck"]["start_period"].rstrip("s")) * 10**9
                assert service["labels"].items() <= {k: v for k, v in spec["labels"].items() if k != HASH_LABEL}.items()
                mounts = {f"{m['Source']}:{m['Target']}" + (":ro" if m["ReadOnly"] else "") for m in spec["mounts"]}
                assert mounts == set(service["volumes"])
                assert [u["Soft"] for u in spec["ulimits"]] == [service["ulimits"]["nofile"]["soft"]]
                if network.key == "local":
                    assert spec["network_mode"] == service["network_mode"] == "host"
                else:
                    assert spec["network"] == network_name(node)
                    assert _spec_ports(spec["ports"]) == _compose_ports(service["ports"]), client.service
                    assert ("extra_hosts" in spec) == ("extra_hosts" in service)
                checked += 1
    assert checked > 20


def test_bridge_network_publishes_ports_and_down_removes_it(docker_node, podman_api, monkeypatch):
    """The non-local layout for real: its own network, ports published on loopback (anvil told to bind 0.0.0.0)."""
    import docker

    from mevops.lifecycle import docker as backend_module

    workspace, root, _ = docker_node
    monkeypatch.setenv("DOCKER_HOST", podman_api.url)
    monkeypatch.setattr(backend_module, "host_networking", lambda node: False)
    node = _node(workspace, root)
    client, port = node.services[0], _free_port()  # not the catalog port: a process-backend anvil may hold it
    client.ports["rpc"] = client.health.port = port
    client.flags["compose"] = [f for f in client.flags["compose"] if not f.startswith(("--host=", "--port="))]
    client.flags["compose"] += ["--host=0.0.0.0", f"--port={port}"]
    backend = backend_module.DockerBackend()
    try:
        assert backend.up(node)[0].state == "running"
        api = docker.DockerClient(base_url=podman_api.url)
        network = api.networks.get(backend_module.network_name(node))
        assert network.attrs["Labels"]["io.mevops.chain"] == "ethereum"
        chain_id = catalog_port(workspace)[1]
        assert api.containers.get(CONTAINER).attrs["HostConfig"]["PortBindings"][f"{port}/tcp"][0]["HostIp"] == "127.0.0.1"
        assert int(rpc(f"http://127.0.0.1:{port}", "eth_chainId"), 16) == chain_id
    finally:
        backend.down(node)
    assert not api.networks.list(names=[backend_module.network_name(node)])
