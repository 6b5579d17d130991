"""The kustomize base + per-environment overlays for the engine and the nodes, and `mevops infra k8s`.

Validated for real: `kubectl kustomize` builds every overlay and mevops' built-in builder gives the
same objects; `kubernetes-validate --strict` accepts them. `mevops infra k8s apply` runs against a
FAKE Kubernetes API server (FakeKubernetesAPI from test_lifecycle_kubernetes: a loopback HTTP
server answering discovery and recording server-side-apply PATCHes); no cluster runs here.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from tests.integration.conftest import ENVIRONMENTS, require_tool, run_tool
from tests.integration.test_infra_terraform import assert_user_error, mevops
from tests.integration.test_lifecycle_kubernetes import fake_api  # noqa: F401 (the FAKE API server fixture)

K8S = "infrastructure/deployment/kubernetes"
STATEFUL_KINDS = ("StatefulSet", "Deployment")


_BUILT: dict[str, list[dict]] = {}


def build(root, env: str) -> list[dict]:
    """The overlay as `mevops infra k8s` builds it (once per rendered root; copies, tests may not share edits)."""
    from mevops.infra.kubernetes import build_overlay

    key = f"{root}:{env}"
    if key not in _BUILT:
        _BUILT[key] = build_overlay(root, env)
    return json.loads(json.dumps(_BUILT[key]))


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def _key(obj: dict) -> tuple:
    return obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_builtin_build_equals_kubectl_kustomize(rendered, env):
    tool = require_tool("kubectl")
    result = run_tool(tool, "kustomize", rendered[env] / K8S / "overlays" / env)
    assert result.returncode == 0, result.stderr[-3000:]
    reference = {_key(d): d for d in yaml.safe_load_all(result.stdout) if d}
    mine = {_key(o): o for o in build(rendered[env], env) if o["kind"] != "Secret"}  # + the JWT Secrets kustomize cannot make
    assert set(mine) == set(reference)
    for key, obj in mine.items():
        assert obj == reference[key], key


def test_built_overlays_validate_strictly(rendered, tmp_path):
    """Production's objects, one of each shape (a workload and a Service per client, one of every other
    kind: mainnet and testnet, and the PVCs, ConfigMaps and budgets, differ in values only), and the
    engine objects of the other environments."""
    tool = require_tool("kubernetes-validate")
    production = tmp_path / "production.yaml"
    shapes = {}
    for obj in build(rendered["production"], "production"):
        per_client = obj["kind"] in (*STATEFUL_KINDS, "Service")
        name = obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") or obj["metadata"]["name"]
        shapes.setdefault((obj["kind"], name if per_client else ""), obj)
    assert len(shapes) > 25
    production.write_text(yaml.safe_dump_all(list(shapes.values())))
    engines = []  # the other environments differ in the engine only (the nodes are the same model)
    for env in ("development", "staging"):
        path = tmp_path / f"{env}-engine.yaml"
        engine = [o for o in build(rendered[env], env) if o["metadata"].get("namespace") == f"mevops-{env}"]
        path.write_text(yaml.safe_dump_all(engine))
        engines.append(path)
    result = run_tool(tool, "--strict", "--quiet", production, *engines)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_engine_runs_replicas_with_one_signer_elected_in_the_store(rendered):
    from mevops.render.deployment import DEFAULT_ENGINE_REPLICAS, ENGINE_REPLICAS

    for env, root in rendered.items():
        objects = build(root, env)
        ns = f"mevops-{env}"
        engine = [o for o in objects if o["metadata"].get("namespace") == ns]
        assert {o["kind"] for o in engine} == {"ServiceAccount", "ConfigMap", "Deployment", "Service",
                                               "PodDisruptionBudget", "NetworkPolicy"}
        assert not by_kind(objects, "Lease") and not by_kind(objects, "Role")  # no Kubernetes API election any more
        (deployment,) = by_kind(engine, "Deployment")
        store_url = yaml.safe_load(by_kind(engine, "ConfigMap")[0]["data"]["engine.yml"])["mev_engine"]["store"]["url"]
        postgres = store_url.startswith("postgresql")
        # a pod-private SQLite store cannot share the signer lease: one replica
        expected = ENGINE_REPLICAS.get(env, DEFAULT_ENGINE_REPLICAS) if postgres else 1
        assert deployment["spec"]["replicas"] == expected, env
        assert env == "development" or (postgres and expected > 1), env
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        variables = {e["name"]: e.get("value") for e in container["env"]}
        assert variables["MEVOPS_MEV_ENGINE__STORE__URL"] == store_url
        assert not any(name.startswith("MEVOPS_LEADER_ELECTION") for name in variables)
        assert ("MEVOPS_STORE_PASSWORD_FILE" in variables) is postgres
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz" == container["livenessProbe"]["httpGet"]["path"]
        assert container["image"] == f"mevops/engine:{deployment['metadata']['labels']['app.kubernetes.io/version']}"
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        labels = pod["metadata"]["labels"]
        for obj in by_kind(engine, "PodDisruptionBudget") + by_kind(engine, "Service"):
            selector = obj["spec"]["selector"].get("matchLabels", obj["spec"]["selector"])
            assert selector.items() <= labels.items(), obj["metadata"]["name"]
        assert all(o["metadata"]["labels"]["mevops.io/environment"] == env for o in objects)


def test_nodes_are_statefulsets_with_volumes_probes_and_budgets(rendered):
    root = rendered["production"]
    objects = build(root, "production")
    ports = yaml.safe_load((root / "nodes/config/ports.yml").read_text())["ports"]
    services = {f"{p['chain']}-{p['network']}-{p['client']}" for p in ports if p["network"] != "local"}
    workloads = {o["metadata"]["name"]: o for o in objects
                 if o["kind"] in STATEFUL_KINDS and o["metadata"]["namespace"] != "mevops-production"}
    assert set(workloads) == services
    claims = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in by_kind(objects, "PersistentVolumeClaim")}
    configmaps = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in by_kind(objects, "ConfigMap")}
    secrets = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in by_kind(objects, "Secret")}
    budgets = by_kind(objects, "PodDisruptionBudget")
    for name, workload in workloads.items():
        ns = workload["metadata"]["namespace"]
        pod = workload["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            handler = container[probe]
            assert "exec" in handler or "httpGet" in handler, (name, probe)  # asks the node itself
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        if workload["kind"] == "StatefulSet":
            claim = claims[(ns, volumes["data"]["persistentVolumeClaim"]["claimName"])]
            assert claim["spec"]["resources"]["requests"]["storage"].endswith("Gi")
        assert (ns, volumes["config"]["configMap"]["name"]) in configmaps
        if "jwt" in volumes:  # made from the rendered JWT file by mevops infra k8s
            secret = secrets[(ns, volumes["jwt"]["secret"]["secretName"])]
            labels = workload["metadata"]["labels"]
            chain, network = labels["mevops.io/chain"], labels["mevops.io/network"]
            jwt = (root / f"nodes/chains/{chain}/config/jwt/{network}.hex").read_bytes().strip()
            assert base64.b64decode(secret["data"]["jwt.hex"]) == jwt
        covering = [b for b in budgets if b["metadata"]["namespace"] == ns
                    and b["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()]
        assert len(covering) == 1 and covering[0]["spec"]["maxUnavailable"] == 1, name
    for budget in budgets:
        if budget["metadata"]["namespace"] != "mevops-production":
            chosen = [n for n, w in workloads.items() if budget["spec"]["selector"]["matchLabels"].items()
                      <= w["spec"]["template"]["metadata"]["labels"].items()]
            assert chosen and len({n.rsplit("-", 1)[0] for n in chosen}) >= 1, budget["metadata"]["name"]


# -- mevops infra k8s apply against the FAKE API server -----------------------------------------
@pytest.fixture
def fake_cluster(fake_api, tmp_path, monkeypatch):
    """test_lifecycle_kubernetes' FAKE API server, also serving policy/v1, networking.k8s.io/v1 and
    ServiceAccounts, and refusing (422) the PATCH of any path in ``server.refuse``."""
    from tests.integration import test_lifecycle_kubernetes as fake

    groups = json.loads(json.dumps(fake.DISCOVERY["/apis"]))
    for group in ("policy", "networking.k8s.io"):
        groups["groups"].append({"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
                                 "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"}})
    core = json.loads(json.dumps(fake.DISCOVERY["/api/v1"]))
    core["resources"] += fake._resources(("serviceaccounts", "ServiceAccount", True))
    monkeypatch.setitem(fake.DISCOVERY, "/apis", groups)
    monkeypatch.setitem(fake.DISCOVERY, "/api/v1", core)
    monkeypatch.setitem(fake.DISCOVERY, "/apis/policy/v1", {
        "kind": "APIResourceList", "groupVersion": "policy/v1",
        "resources": fake._resources(("poddisruptionbudgets", "PodDisruptionBudget", True))})
    monkeypatch.setitem(fake.DISCOVERY, "/apis/networking.k8s.io/v1", {
        "kind": "APIResourceList", "groupVersion": "networking.k8s.io/v1",
        "resources": fake._resources(("networkpolicies", "NetworkPolicy", True))})
    patch = fake._Handler.do_PATCH

    def refusing(handler) -> None:  # noqa: ANN001
        if handler.path.split("?")[0] in getattr(handler.server, "refuse", set()):
            handler.rfile.read(int(handler.headers["Content-Length"]))
            return handler._send(422, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
                                       "message": "PodDisruptionBudget is invalid: spec.maxUnavailable: Invalid value"})
        return patch(handler)

    monkeypatch.setattr(fake._Handler, "do_PATCH", refusing)
    server, env = fake_api
    return server, {**env, "XDG_CACHE_HOME": str(tmp_path / "cache"), "KUBERNETES_SERVICE_HOST": ""}


def _path(obj: dict) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    plural = {"NetworkPolicy": "networkpolicies", "PodDisruptionBudget": "poddisruptionbudgets"}.get(
        obj["kind"], obj["kind"].lower() + "s")
    ns = obj["metadata"].get("namespace")
    return f"{base}/namespaces/{ns}/{plural}/{obj['metadata']['name']}" if ns else f"{base}/{plural}/{obj['metadata']['name']}"


def test_k8s_apply_server_side_applies_the_overlay_to_a_fake_cluster(rendered, fake_cluster):
    server, env = fake_cluster
    root = rendered["development"]
    ws = root.parent / "workspace"
    objects = build(root, "development")

    dry = mevops("infra", "k8s", "apply", "-e", "development", "--root", str(root), "--dry-run", ws=ws, env=env)
    assert dry.returncode == 0 and f"{len(objects)} objects" in dry.stdout and not server.requests

    applied = mevops("infra", "k8s", "apply", "-e", "development", "--root", str(root), ws=ws, env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    patches = server.patches()
    assert [p["path"] for p in patches] == [_path(o) for o in objects]
    assert {p["content_type"] for p in patches} == {"application/apply-patch+yaml"}
    assert all(p["query"] == {"fieldManager": "mevops", "force": "true"} for p in patches)
    assert [p["body"] for p in patches] == objects  # each object exactly as built
    kinds = [p["body"]["kind"] for p in patches]
    assert kinds[: kinds.count("Namespace")] == ["Namespace"] * kinds.count("Namespace")  # namespaces first
    assert kinds.index("Secret") < kinds.index("StatefulSet") and kinds.index("ConfigMap") < kinds.index("Deployment")

    # applying again is the same requests (idempotent); a refusal stops there and says what was applied
    first_pdb = next(i for i, o in enumerate(objects) if o["kind"] == "PodDisruptionBudget")
    server.refuse = {_path(objects[first_pdb])}
    refused = mevops("infra", "k8s", "apply", "-e", "development", "--root", str(root), ws=ws, env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"applied {first_pdb} of {len(objects)} objects" in refused.stderr and "spec.maxUnavailable" in refused.stderr
    assert [p["body"] for p in server.patches()[len(objects):]] == objects[:first_pdb]  # (the refused one is not stored)


def test_k8s_apply_without_a_cluster_or_an_overlay_exits_2(rendered, tmp_path):
    root = rendered["development"]
    ws = root.parent / "workspace"
    no_cluster = {"KUBECONFIG": str(tmp_path / "missing-kubeconfig"), "KUBERNETES_SERVICE_HOST": ""}
    assert_user_error(mevops("infra", "k8s", "apply", "-e", "development", "--root", str(root), ws=ws, env=no_cluster),
                      "no Kubernetes configuration")
    assert_user_error(mevops("infra", "k8s", "apply", "-e", "staging", "--root", str(root), ws=ws, env=no_cluster),
                      "overlays/staging", "not rendered")
