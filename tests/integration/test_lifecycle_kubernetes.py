"""The kubernetes backend against a FAKE Kubernetes API server.

No cluster can run here. ``FakeKubernetesAPI`` is a small loopback HTTP server that answers the
discovery documents the official client asks for, records every server-side-apply PATCH (path,
query, content type, body) and stores what was applied, and answers GETs of workloads, pods and
pod logs from what the test sets. The backend, the kubernetes client and its HTTP traffic are real.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (pip install kubernetes)")

NS = "mevops-mainnet"
APPLY = "application/apply-patch+yaml"


def _resources(*entries: tuple[str, str, bool]) -> list[dict]:
    return [{"name": name, "singularName": "", "kind": kind, "namespaced": namespaced,
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]} for name, kind, namespaced in entries]


DISCOVERY = {
    "/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"},
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": _resources(
        ("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True), ("secrets", "Secret", True),
        ("services", "Service", True), ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("pods", "Pod", True), ("pods/log", "Pod", True))},
    "/apis/apps/v1": {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": _resources(
        ("statefulsets", "StatefulSet", True), ("statefulsets/scale", "Scale", True),
        ("deployments", "Deployment", True), ("deployments/scale", "Scale", True))},
}


class FakeKubernetesAPI(ThreadingHTTPServer):
    """A FAKE API server: records requests, keeps applied objects, serves canned status, pods and logs."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.objects: dict[str, dict] = {}       # request path → the applied object
        self.statuses: dict[str, dict] = {}      # workload name → .status the fake controller reports
        self.pods: dict[str, list[dict]] = {}    # label selector → pods
        self.logs: dict[str, str] = {}           # pod name → log text
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def patches(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "PATCH"]


class _Handler(BaseHTTPRequestHandler):
    server: FakeKubernetesAPI

    def log_message(self, *args) -> None:
        pass

    def _send(self, code: int, payload, content_type: str = "application/json") -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, path: str) -> None:
        self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                         "message": f"{path} not found"})

    def _record(self, body=None) -> tuple[str, dict]:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        self.server.requests.append({"method": self.command, "path": url.path, "query": query,
                                     "content_type": self.headers.get("Content-Type"), "body": body})
        return url.path, query

    def do_GET(self) -> None:
        path, query = self._record()
        if path in DISCOVERY:
            return self._send(200, DISCOVERY[path])
        if path.endswith("/log"):
            pod = path.split("/")[-2]
            if pod not in self.server.logs:
                return self._not_found(path)
            return self._send(200, self.server.logs[pod], "text/plain")
        if path == f"/api/v1/namespaces/{NS}/pods":
            return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                    "items": self.server.pods.get(query.get("labelSelector", ""), [])})
        if path in self.server.objects:
            obj = self.server.objects[path]
            return self._send(200, {**obj, "status": self.server.statuses.get(obj["metadata"]["name"], {})})
        return self._not_found(path)

    def do_PATCH(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
        path, _ = self._record(body)
        if path.endswith("/scale"):
            target = self.server.objects.get(path.removesuffix("/scale"))
            if target is None:
                return self._not_found(path)
            target["spec"]["replicas"] = body["spec"]["replicas"]
            return self._send(200, {"kind": "Scale", "apiVersion": "autoscaling/v1", "spec": body["spec"]})
        previous = self.server.objects.get(path, {}).get("metadata", {}).get("generation", 0)
        stored = {**body, "metadata": {**body["metadata"], "uid": f"uid-{len(self.server.objects)}", "generation": previous + 1}}
        self.server.objects[path] = stored
        return self._send(200, stored)


@pytest.fixture
def fake_api(tmp_path, monkeypatch):
    server = FakeKubernetesAPI()
    server.thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server.url}}],
        "users": [{"name": "fake", "user": {"token": "fake-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the client's discovery cache
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield server, {"KUBECONFIG": str(kubeconfig)}
    server.shutdown()
    server.server_close()


@pytest.fixture
def rendered_mainnet(workspace, tmp_path, run):
    root = tmp_path / "root"
    result = run("render", "--root", root, "--chain", "ethereum", "--network", "mainnet", cwd=workspace)
    assert result.code == 0, result.err
    return workspace, root, root / "nodes/chains/ethereum/deployment/kubernetes/mainnet"


def _chain(run, workspace, root, env, *args):
    return run("chain", args[0], "ethereum", "-n", "mainnet", "-b", "kubernetes", "--root", root, *args[1:],
               cwd=workspace, env=env)


def _rendered_objects(directory: Path) -> list[dict]:
    order = yaml.safe_load((directory / "kustomization.yaml").read_text())["resources"]
    return [doc for name in order for doc in yaml.safe_load_all((directory / name).read_text()) if doc]


def _path(obj: dict) -> str:
    plural = {"Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets", "Service": "services",
              "PersistentVolumeClaim": "persistentvolumeclaims", "StatefulSet": "statefulsets", "Deployment": "deployments"}
    base = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
    kind = plural[obj["kind"]]
    if obj["kind"] == "Namespace":
        return f"{base}/{kind}/{obj['metadata']['name']}"
    return f"{base}/namespaces/{NS}/{kind}/{obj['metadata']['name']}"


def test_up_server_side_applies_every_rendered_manifest(rendered_mainnet, fake_api, run):
    workspace, root, directory = rendered_mainnet
    server, env = fake_api
    before = _chain(run, workspace, root, env, "status", "--json")
    states = {(s["state"], s["detail"]) for s in json.loads(before.out)["services"]}
    assert before.code == 1 and states == {("stopped", "not applied")}
    assert not server.patches()
    up = _chain(run, workspace, root, env, "up")
    assert up.code == 0, up.err

    rendered = _rendered_objects(directory)
    patches = server.patches()
    secret_path = f"/api/v1/namespaces/{NS}/secrets/ethereum-mainnet-jwt"
    assert [p["path"] for p in patches] == [_path(o) for o in rendered] + [secret_path]
    for patch in patches:
        assert patch["content_type"] == APPLY
        assert patch["query"] == {"fieldManager": "mevops", "force": "true"}
    for patch, obj in zip(patches, rendered):
        expected = obj if obj["kind"] == "Namespace" else {**obj, "metadata": {**obj["metadata"], "namespace": NS}}
        assert patch["body"] == expected
    secret = patches[-1]["body"]
    jwt = (root / "nodes/chains/ethereum/config/jwt/mainnet.hex").read_bytes().strip()
    assert secret["kind"] == "Secret" and base64.b64decode(secret["data"]["jwt.hex"]) == jwt
    assert secret["metadata"]["namespace"] == NS
    # nothing is running yet: the fake controller reports no ready replicas
    assert up.out.count("starting") == 3

    server.requests.clear()
    assert _chain(run, workspace, root, env, "up").code == 0  # apply is idempotent: the same bodies again
    assert [p["body"] for p in server.patches()] == [p["body"] for p in patches]


def _pod(name: str, ready: bool, restarts: int = 0, waiting: dict | None = None) -> dict:
    state = {"waiting": waiting} if waiting else {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    return {"metadata": {"name": name}, "status": {"phase": "Running", "containerStatuses": [
        {"name": name.rsplit("-", 1)[0], "ready": ready, "restartCount": restarts, "state": state}]}}


def test_status_reads_rollouts_and_pods(rendered_mainnet, fake_api, run):
    workspace, root, _ = rendered_mainnet
    server, env = fake_api
    assert _chain(run, workspace, root, env, "up").code == 0
    server.statuses["ethereum-mainnet-geth"] = {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                                                "currentRevision": "geth-1", "updateRevision": "geth-1"}
    server.statuses["ethereum-mainnet-lighthouse"] = {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0,
                                                      "updatedReplicas": 1, "currentRevision": "lh-1", "updateRevision": "lh-1"}
    server.statuses["ethereum-mainnet-mev-boost"] = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 0}
    server.pods["app.kubernetes.io/instance=ethereum-mainnet-geth"] = [_pod("ethereum-mainnet-geth-0", True, restarts=2)]
    server.pods["app.kubernetes.io/instance=ethereum-mainnet-lighthouse"] = [_pod(
        "ethereum-mainnet-lighthouse-0", False, 7, {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"})]

    status = _chain(run, workspace, root, env, "status", "--json")
    assert status.code == 1  # not every service runs
    services = {s["client"]: s for s in json.loads(status.out)["services"]}
    assert services["geth"]["state"] == "running"
    assert services["geth"]["extra"] == {"kind": "StatefulSet", "ready": "1/1", "restarts": 2, "rollout": "complete",
                                         "pods": ["ethereum-mainnet-geth-0"]}
    assert services["lighthouse"]["state"] == "crashed"
    assert services["lighthouse"]["detail"] == "CrashLoopBackOff: back-off 5m0s restarting"
    assert services["mev-boost"]["state"] == "starting" and services["mev-boost"]["extra"]["rollout"] == "in progress"
    asked = {r["query"].get("labelSelector") for r in server.requests if r["path"] == f"/api/v1/namespaces/{NS}/pods"}
    assert asked == {f"app.kubernetes.io/instance=ethereum-mainnet-{c}" for c in ("geth", "lighthouse", "mev-boost")}


def test_logs_come_from_the_pods_redacted(rendered_mainnet, fake_api, run):
    workspace, root, _ = rendered_mainnet
    server, env = fake_api
    assert _chain(run, workspace, root, env, "up").code == 0
    server.pods["app.kubernetes.io/instance=ethereum-mainnet-geth"] = [_pod("ethereum-mainnet-geth-0", True)]
    key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    server.logs["ethereum-mainnet-geth-0"] = (f"INFO Starting Geth on Ethereum mainnet\nprivate key: {key}\n"
                                              "INFO Imported new chain segment\n")
    logs = _chain(run, workspace, root, env, "logs", "--lines", "20")
    assert logs.code == 0, logs.err
    assert "Starting Geth on Ethereum mainnet" in logs.out and "Imported new chain segment" in logs.out
    assert key not in logs.out and "[redacted by mevops]" in logs.out
    request = next(r for r in server.requests if r["path"].endswith("/log"))
    assert request["path"] == f"/api/v1/namespaces/{NS}/pods/ethereum-mainnet-geth-0/log"
    assert request["query"]["container"] == "geth" and request["query"]["tailLines"] == "20"


def test_down_scales_workloads_to_zero_and_keeps_volumes(rendered_mainnet, fake_api, run):
    workspace, root, _ = rendered_mainnet
    server, env = fake_api
    assert _chain(run, workspace, root, env, "up").code == 0
    server.requests.clear()
    down = _chain(run, workspace, root, env, "down", "--json")
    assert down.code == 0, down.err
    patches = server.patches()
    assert [p["path"] for p in patches] == [
        f"/apis/apps/v1/namespaces/{NS}/deployments/ethereum-mainnet-mev-boost/scale",
        f"/apis/apps/v1/namespaces/{NS}/statefulsets/ethereum-mainnet-lighthouse/scale",
        f"/apis/apps/v1/namespaces/{NS}/statefulsets/ethereum-mainnet-geth/scale"]
    assert all(p["content_type"] == "application/merge-patch+json" and p["body"] == {"spec": {"replicas": 0}} for p in patches)
    assert not [r for r in server.requests if r["method"] == "DELETE"]  # PVCs, config and services stay
    assert {s["state"] for s in json.loads(down.out)["services"]} == {"stopped"}


def test_bad_input_is_a_clear_error(rendered_mainnet, fake_api, run, tmp_path):
    workspace, root, _ = rendered_mainnet
    server, env = fake_api
    cases = [
        (("up", "ethereum", "-n", "local"), env,
         "no rendered Kubernetes manifests; run `mevops render` first (the local network has none"),
        (("up", "ethereum", "-n", "testnet"), env, "no rendered Kubernetes manifests; run `mevops render` first"),
        (("up", "ethereum", "-n", "mainnet"), {"KUBECONFIG": str(tmp_path / "missing")}, "no Kubernetes configuration"),
    ]
    closed = FakeKubernetesAPI()
    closed.server_close()  # a port nothing listens on
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(Path(env["KUBECONFIG"]).read_text().replace(server.url, closed.url))
    cases.append((("status", "ethereum", "-n", "mainnet"), {"KUBECONFIG": str(dead)}, f"no Kubernetes API at {closed.url}"))
    for args, environment, fragment in cases:
        result = run("chain", *args, "-b", "kubernetes", "--root", root, cwd=workspace, env=environment)
        assert result.code == 2, (args, result.out, result.err)
        assert fragment in result.err and "Traceback" not in result.err, result.err
