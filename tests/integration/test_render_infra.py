"""The rendered MEV center, deployment, security, CI/CD and environment files.

Real validators (check-jsonschema, kubernetes-validate, terraform, ansible-playbook, nft,
yamllint) on the renders of all three environments, then behaviour: what each environment's
files must and must not contain.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.integration.conftest import files, require_tool, run_tool

COMPOSE = "infrastructure/deployment/docker/docker-compose.yml"
K8S = "infrastructure/deployment/kubernetes"
TERRAFORM = "infrastructure/deployment/terraform"
ANSIBLE = "infrastructure/deployment/ansible"
NFT = "infrastructure/security/nftables.conf"
WORKFLOW = "infrastructure/automation/ci-cd/github-actions/mevops.yml"
REGISTRY = "mev/strategies/registry.json"
P2P_NAMES = {"p2p", "gossip", "quic", "discv5", "torrent"}
NEVER_PUBLIC = {"rpc", "ws", "http", "auth", "metrics", "grpc"}
# The YAML these templates own (monitoring and chain files are validated by their own tests).
OWN_YAML = ("mev/engines/*/config.yml", "mev/config/engine.yml",
            "infrastructure/deployment/**/*.yml", "infrastructure/deployment/**/*.yaml",
            "infrastructure/automation/**/*.yml", "environments/*/config.yml")


def load(root: Path, rel: str):
    return yaml.safe_load((root / rel).read_text())  # JSON files too: JSON is YAML


def k8s(root: Path, name: str) -> dict:
    return load(root, f"{K8S}/{name}.yaml")


@pytest.fixture(scope="module")
def workspace(rendered) -> Path:
    return rendered["development"].parent / "workspace"


def _ok(result, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


# -- validators --------------------------------------------------------------------------------
def test_compose_files_match_the_compose_spec(rendered):
    tool = require_tool("check-jsonschema")
    _ok(run_tool(tool, "--builtin-schema", "vendor.compose-spec", *(r / COMPOSE for r in rendered.values())), "compose-spec")


def test_ci_workflow_matches_the_github_workflow_schema(rendered):
    tool = require_tool("check-jsonschema")
    _ok(run_tool(tool, "--builtin-schema", "vendor.github-workflows", *(r / WORKFLOW for r in rendered.values())), "workflow")


def test_kubernetes_manifests_validate_strictly(rendered):
    tool = require_tool("kubernetes-validate")
    manifests = [p for r in rendered.values() for p in files(r, f"{K8S}/*.yaml") if p.name != "kustomization.yaml"]
    assert len(manifests) >= 3 * 7
    _ok(run_tool(tool, "--strict", "--quiet", *manifests), "kubernetes-validate --strict")


def test_kustomization_builds_every_manifest(rendered):
    tool = require_tool("kubectl")
    root = rendered["production"]
    result = run_tool(tool, "kustomize", root / K8S)
    _ok(result, "kubectl kustomize")
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(result.stdout))
    assert kinds == sorted(["Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                            "NetworkPolicy"])


def test_rendered_yaml_lints_clean(rendered):
    tool = require_tool("yamllint")
    paths = sorted({p for r in rendered.values() for pattern in OWN_YAML for p in r.glob(pattern)})
    assert len(paths) > 3 * 20
    _ok(run_tool(tool, "-d", "relaxed", "-f", "parsable", *paths), "yamllint")


@pytest.mark.parametrize("env", ["development", "production"])
def test_terraform_inits_validates_and_plans_offline(rendered, env, tmp_path):
    tool = require_tool("terraform")
    work = tmp_path / "tf"
    shutil.copytree(rendered[env] / TERRAFORM, work)
    for argv in (("init", "-backend=false", "-input=false", "-no-color"), ("validate", "-no-color"),
                 ("fmt", "-check", "-no-color"),
                 ("plan", "-input=false", "-lock=false", "-no-color", "-out=plan.bin")):
        _ok(run_tool(tool, *argv, cwd=work, timeout=180), f"terraform {argv[0]}")
    shown = run_tool(tool, "show", "-json", "plan.bin", cwd=work)
    _ok(shown, "terraform show")
    resources = json.loads(shown.stdout)["planned_values"]["root_module"]["resources"]
    by_type: dict[str, list[dict]] = {}
    for res in resources:
        by_type.setdefault(res["type"] + "." + res["name"], []).append(res)
    hosts = {r["index"]: r["values"]["input"] for r in by_type["terraform_data.node_host"]}
    ports = load(rendered[env], "nodes/config/ports.yml")["ports"]
    expected = {f"{p['chain']}-{p['network']}" for p in ports if p["network"] != "local"}
    placed = {key.split("/")[0] for key in hosts}
    assert placed == expected
    regions = {key.split("/")[1] for key in hosts if key.startswith("ethereum-mainnet/")}
    assert regions == ({"primary", "secondary"} if env == "production" else {"primary"})
    assert bool(by_type.get("terraform_data.dr_snapshot")) is (env == "production")
    # security groups: p2p open to the world, RPC only to private networks
    for sg in by_type["terraform_data.security_group"]:
        world = {(rule["protocol"], rule["port"]) for rule in sg["values"]["input"]["ingress"] if "0.0.0.0/0" in rule["cidrs"]}
        mine = [p for p in ports if f"{p['chain']}-{p['network']}" == sg["index"]]
        for p in mine:
            if p["name"] in P2P_NAMES:
                assert any(port == str(p["port"]) for _, port in world), (sg["index"], p)
            if p["name"] in NEVER_PUBLIC:
                assert ("tcp", str(p["port"])) not in world, (sg["index"], p)


def test_ansible_playbook_passes_syntax_check(rendered):
    tool = require_tool("ansible-playbook")
    production = rendered["production"] / ANSIBLE
    playbooks = [root / ANSIBLE / "site.yml" for root in rendered.values()]  # roles resolve beside each playbook
    result = run_tool(tool, "--syntax-check", "-i", "inventory/hosts.ini", *playbooks, cwd=production)
    _ok(result, "ansible-playbook --syntax-check")
    assert result.stdout.count("playbook: ") == len(playbooks)


def test_nftables_ruleset_parses(rendered):
    tool = require_tool("nft")
    for env, root in rendered.items():
        result = run_tool(tool, "-c", "-f", root / NFT)
        if result.returncode and "Operation not permitted" in result.stderr:
            pytest.skip("nft -c needs CAP_NET_ADMIN here")
        _ok(result, f"nft -c ({env})")


# -- behaviour: docker compose -------------------------------------------------------------
def test_postgres_runs_only_where_the_store_is_postgresql(rendered):
    for env, root in rendered.items():
        compose = load(root, COMPOSE)
        services = compose["services"]
        assert {"engine", "prometheus", "grafana", "alertmanager", "node-exporter"} <= set(services)
        engine_env = services["engine"]["environment"]
        if env == "development":
            assert "postgres" not in services and "postgres-data" not in compose["volumes"]
            assert "MEVOPS_MEV_ENGINE__STORE__URL" not in engine_env
        else:
            assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
            assert services["engine"]["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert engine_env["MEVOPS_MEV_ENGINE__STORE__URL"].startswith("postgresql")
            assert "postgres_password" in compose["secrets"]


def test_every_compose_service_is_supervised(rendered):
    from mevops import __version__

    for env, root in rendered.items():
        services = load(root, COMPOSE)["services"]
        for name, svc in services.items():
            assert svc["restart"] == "unless-stopped", name
            assert svc["healthcheck"]["test"], name
            assert "no-new-privileges:true" in svc["security_opt"], name
        engine = services["engine"]
        assert engine["image"] == f"mevops/engine:{__version__}"
        assert engine["command"][:3] == ["mevops", "engine", "run"] and engine["command"][-2:] == ["--env", env]
        # the open liveness route: /api/v1/* answers 401 without a token, so a check there is never healthy
        assert "/healthz'" in " ".join(engine["healthcheck"]["test"]) and "/api/v1" not in " ".join(engine["healthcheck"]["test"])
        exporter = services["node-health"]     # mevops_node_*, what the rendered node alerts read
        assert exporter["command"][:3] == ["mevops", "chain", "exporter"] and exporter["command"][-4:] == ["--env", env, "--port", "9310"]
        assert exporter["network_mode"] == "host" and any(v.endswith("/workspace:ro") for v in exporter["volumes"])
        assert not any("PASSWORD=" in str(v) or "PASSWORD:" in str(v) for v in engine["environment"].values())


# -- behaviour: kubernetes ------------------------------------------------------------------
def test_engine_deployment_has_standbys_and_one_elected_signer(rendered):
    """Replicas elect their signer in the store database (mevops/engine/lease), not through a
    Kubernetes Lease: no RBAC for leases; probes hit the open /healthz (the API needs a token)."""
    for root in rendered.values():
        deployment, pdb = (k8s(root, n) for n in ("deployment", "poddisruptionbudget"))
        assert deployment["spec"]["replicas"] > 1
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert not any(e["name"].startswith("MEVOPS_LEADER_ELECTION") for e in container["env"])
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert not (root / "infrastructure/deployment/kubernetes/lease.yaml").exists()
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert pdb["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]
        namespaces = {k8s(root, n)["metadata"].get("namespace") for n in ("deployment", "service", "configmap")}
        assert namespaces == {k8s(root, "namespace")["metadata"]["name"]}


def test_configmap_carries_the_rendered_engine_config(rendered):
    for root in rendered.values():
        data = k8s(root, "configmap")["data"]
        assert yaml.safe_load(data["engine.yml"]) == load(root, "mev/config/engine.yml")
        assert json.loads(data["registry.json"])["strategies"] == load(root, REGISTRY)["strategies"]


# -- behaviour: MEV operations center -----------------------------------------------------------
def _workspace_strategies(workspace: Path) -> dict[str, tuple[str, str]]:
    found = {}
    for path in (workspace / "mev/strategies").glob("*/*/*.yml"):
        stage, kind = path.relative_to(workspace / "mev/strategies").parts[:2]
        found[path.stem] = (stage, kind)
    return found


def test_registry_lists_exactly_the_workspace_strategies(rendered, workspace):
    expected = _workspace_strategies(workspace)
    assert len(expected) >= 4
    for root in rendered.values():
        registry = load(root, REGISTRY)
        rows = {r["name"]: r for r in registry["strategies"]}
        assert {n: (r["stage"], r["type"]) for n, r in rows.items()} == expected
        for row in rows.values():
            raw = yaml.safe_load((workspace / row["source"]).read_text())
            assert row["engine"] == raw["execution"]["engine"]
            assert row["chains"] == raw["parameters"]["chains"]
            assert row["enabled"] == raw["strategy"].get("enabled", False)
        for stage in ("research", "testing", "active", "archived"):
            staged = load(root, f"mev/strategies/{stage}/strategies.json")
            assert {s["name"] for s in staged["strategies"]} == {n for n, (st, _) in expected.items() if st == stage}
            assert registry["counts"][stage] == len(staged["strategies"])
            for s in staged["strategies"]:  # units normalised: wei amounts are integers
                assert isinstance(s["spec"]["parameters"]["min_profit"], int)


def test_each_engine_config_covers_its_strategies_chains_and_relays(rendered, workspace):
    engines = yaml.safe_load((workspace / "mev/config/global.yml").read_text())
    relays = engines["relays"]
    for root in rendered.values():
        registry = load(root, REGISTRY)["strategies"]
        assert sorted(p.parent.name for p in files(root, "mev/engines/*/config.yml")) == sorted(engines["engines"])
        for name in engines["engines"]:
            cfg = load(root, f"mev/engines/{name}/config.yml")
            assert cfg["engine"]["name"] == name
            chains = {c for r in registry if r["engine"] == name and r["stage"] != "archived" for c in r["chains"]}
            assert set(cfg["chains"]) == chains
            assert set(cfg["relays"]) == {n for n, r in relays.items() if set(r["chains"]) & chains}
            assert cfg["simulation"]["required"] is True
            assert urlsplit(cfg["store"]["url"]).password is None


def test_environment_config_is_the_effective_config_of_that_environment(rendered):
    for env, root in rendered.items():
        assert sorted(p.parent.name for p in files(root, "environments/*/config.yml")) == [env]
        cfg = load(root, f"environments/{env}/config.yml")
        assert cfg["global"]["environment"] == env
        assert isinstance(cfg["mev"]["max_gas_price"], int) and cfg["mev"]["max_gas_price"] >= 10**9
        dotenv = (root / f"environments/{env}/.env.example").read_text()
        assert f"MEVOPS_ENV={env}\n" in dotenv
        for name, value in re.findall(r"(?m)^([A-Z_]+)=(.*)$", dotenv):  # secrets are files, never values
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY", name):
                assert name.endswith(("_DIR", "_FILE", "_PATH")), name
    assert load(rendered["production"], "environments/production/config.yml")["mev"]["max_gas_price"] == 300 * 10**9


# -- behaviour: firewall ----------------------------------------------------------------------
def _nft_sets(text: str) -> dict[str, set[int]]:
    sets = {}
    for name, body in re.findall(r"set (\w+) \{(.*?)\n  \}", text, re.DOTALL):
        ports: set[int] = set()
        for a, b in re.findall(r"^\s+(\d+)(?:-(\d+))? comment", body, re.MULTILINE):
            ports.update(range(int(a), int(b or a) + 1))
        sets[name] = ports
    return sets


def test_firewall_opens_p2p_ports_and_keeps_rpc_private(rendered):
    for root in rendered.values():
        text = (root / NFT).read_text()
        sets = _nft_sets(text)
        public = sets["p2p_tcp"] | sets["p2p_udp"]
        ports = load(root, "nodes/config/ports.yml")["ports"]
        p2p = [p for p in ports if p["name"] in P2P_NAMES and p["network"] != "local"]
        assert p2p
        for p in p2p:
            assert p["port"] in public, p
        p2p_chains = {p["chain"] for p in p2p}
        assert {c for c in re.findall(r'comment "(\w+) (?:mainnet|testnet) ', text)} >= p2p_chains
        for p in ports:
            if p["name"] in NEVER_PUBLIC or p["network"] == "local":
                assert p["port"] not in public, p
        assert "policy drop;" in text
        for line in text.splitlines():
            if "@private_tcp" in line and "accept" in line:
                assert "saddr @private_v" in line, line
        for p in ports:
            if p["name"] == "auth":
                assert p["port"] in sets["loopback_tcp"] and p["port"] not in sets["private_tcp"]


# -- behaviour: ansible -------------------------------------------------------------------------
def test_ansible_layout_is_the_rendered_directory_tree(rendered):
    for root in rendered.values():
        group_vars = load(root, f"{ANSIBLE}/group_vars/all.yml")
        assert group_vars["mevops_root"] == str(root)
        layout = group_vars["mevops_layout"]
        assert len(layout) > 20
        for entry in layout:
            assert (root / entry["path"]).is_dir(), entry
            assert re.fullmatch(r"0[0-7]{3}", entry["mode"])
        tasks = (root / f"{ANSIBLE}/roles/node_host/tasks/main.yml").read_text()
        assert "deployment/systemd/*.service" in tasks
        roles = "".join(p.read_text() for p in files(root, f"{ANSIBLE}/roles/*/*/main.yml"))
        modules = set(re.findall(r"^\s+-?\s*(ansible\.\w+\.\w+):", roles, re.MULTILINE))
        assert modules and all(m.startswith("ansible.builtin.") for m in modules)


# -- secrets ------------------------------------------------------------------------------------
def _tree_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*")
                     if p.is_file() and ".mevops" not in p.parts and "jwt" not in p.parts)


def test_no_secret_reaches_the_rendered_tree(rendered, workspace):
    key = (workspace / ".secrets/master.key").read_text().strip()
    store = (workspace / "mev/config/api-keys.enc").read_text().strip()
    assert len(key) > 20
    for env, root in rendered.items():
        text = _tree_text(root)
        assert key not in text and store not in text, env


def test_store_password_and_key_store_values_are_never_rendered(tmp_path):
    """A password in the store URL and values in the key store stay out of every rendered file."""
    from mevops.render.run import RenderRequest, render
    from mevops.secrets import write_store
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    ws_dir = tmp_path / "ws"
    init_workspace(ws_dir, None, None, "development")
    write_store(ws_dir / "mev/config/api-keys.enc", ws_dir / ".secrets/master.key",
                {"flashbots_signing_key": "0x" + "ab12" * 16, "etherscan_api_key": "ZZ-SECRET-API-KEY-42"})
    overrides = ws_dir / "environments/production/overrides.yml"
    text = overrides.read_text().replace("postgresql+psycopg://mevops@db.internal",
                                         "postgresql+psycopg://mevops:pw-Sup3r-S3cret@db.internal")
    assert "pw-Sup3r-S3cret" in text
    overrides.write_text(text)
    root = tmp_path / "root"
    outcome = render(Workspace.open(ws_dir), RenderRequest(root, "production"))
    assert not outcome.conflicts
    rendered_text = _tree_text(root)
    for secret in ("pw-Sup3r-S3cret", "ab12" * 16, "ZZ-SECRET-API-KEY-42", (ws_dir / ".secrets/master.key").read_text().strip()):
        assert secret not in rendered_text
    engine = yaml.safe_load((root / "mev/config/engine.yml").read_text())
    assert engine["mev_engine"]["store"]["url"] == "postgresql+psycopg://mevops@db.internal:5432/mevops"


def test_a_workspace_that_is_its_own_target_root_stays_valid(tmp_path):
    """Rendered files under mev/ and environments/ never read as workspace input (strategies, overrides)."""
    from mevops.config.validate import validate_workspace
    from mevops.render.run import RenderRequest, render
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    ws_dir = tmp_path / "ws"
    init_workspace(ws_dir, None, None, "development")
    ws = Workspace.open(ws_dir)
    assert not render(ws, RenderRequest(ws_dir, "production")).conflicts
    assert (ws_dir / REGISTRY).is_file() and (ws_dir / "environments/production/config.yml").is_file()
    report = validate_workspace(Workspace.open(ws_dir), "production")
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.strategies) == len(list((ws_dir / "mev/strategies").glob("*/*/*.yml")))
