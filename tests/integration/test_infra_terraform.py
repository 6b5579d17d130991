"""`mevops infra plan|apply|output|destroy` against the REAL terraform binary, and the cloud modules.

The `local` target (Terraform's built-in terraform_data only) runs the whole lifecycle for real,
offline: plan, a failing apply, a good apply, output, a no-change apply, destroy. The aws, gcp and
azure targets cannot be planned here (no providers can be downloaded, no credentials), so they
are checked as far as Terraform goes offline — `terraform fmt -check`, `terraform init
-backend=false` (which loads and parses every file of every module, then stops at the provider
download) — plus a structural check with python-hcl2 (module arguments against the modules'
variables, references against declarations, one provider per cloud module). Those three are
structural only: nothing proves the cloud providers accept the resources.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ENVIRONMENTS, require_tool, run_tool

TF = "infrastructure/deployment/terraform"
CLOUDS = {"aws": "aws_", "gcp": "google_", "azure": "azurerm_"}
MEVOPS = [sys.executable, "-m", "mevops"]


# -- helpers shared by the test_infra_* modules ------------------------------------------------
def small_workspace(base: Path, env: str, chains: tuple[str, ...] = ("ethereum", "arbitrum")) -> tuple[Path, Path]:
    """A fresh workspace running ``chains``, rendered for ``env``: (workspace, target root)."""
    from mevops.render.run import RenderRequest, render
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    ws_dir, root = base / "ws", base / "root"
    init_workspace(ws_dir, list(chains), None, "development")
    assert not render(Workspace.open(ws_dir), RenderRequest(root, env)).conflicts
    return ws_dir, root


def mevops(*args: str, ws: Path, env: dict[str, str] | None = None, stdin: str | None = None,
           timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process (exit codes, stdout and stderr as a user sees them)."""
    full_env = {**os.environ, "MEVOPS_WORKSPACE": str(ws), **(env or {})}
    return subprocess.run([*MEVOPS, *args], capture_output=True, text=True, env=full_env, input=stdin, timeout=timeout)


def offline_cli_config(tmp: Path) -> Path:
    """A Terraform CLI config whose only provider source is an empty mirror: no network, ever."""
    mirror = tmp / "empty-mirror"
    mirror.mkdir(exist_ok=True)
    config = tmp / "terraformrc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    return config


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


# -- the local target, for real -------------------------------------------------------------------
@pytest.fixture(scope="module")
def production(tmp_path_factory):
    require_tool("terraform")
    base = tmp_path_factory.mktemp("infra-tf")
    ws, root = small_workspace(base, "production")
    env = {"TF_CLI_CONFIG_FILE": str(offline_cli_config(base))}
    return ws, root, env


def _expected_hosts(root: Path) -> dict[str, dict]:
    """host name → the model's view: network, ports by exposure, volumes (from the rendered port map
    and the catalog), as the fleet module must see them."""
    from mevops.render.deployment import LOOPBACK_PORTS, PUBLIC_PORTS

    ports = yaml.safe_load((root / "nodes/config/ports.yml").read_text())["ports"]
    hosts: dict[str, dict] = {}
    for p in ports:
        if p["network"] == "local":
            continue
        host = hosts.setdefault(f"{p['chain']}-{p['network']}", {"network": p["network"], "public": set(), "private": set(),
                                                                  "loopback": set()})
        if p["name"] in LOOPBACK_PORTS:
            host["loopback"].add(("tcp", p["port"]))
        elif p["name"] in PUBLIC_PORTS:
            host["public"].update((proto, p["port"]) for proto in PUBLIC_PORTS[p["name"]])
        else:
            host["private"].add(("tcp", p["port"]))
    return hosts


def _check_outputs(outputs: dict, root: Path) -> None:
    hosts = _expected_hosts(root)
    placed = outputs["node_hosts"]
    # production: mainnet hosts in primary and secondary, testnet hosts in primary only
    expected_keys = {f"{name}/{role}" for name, h in hosts.items()
                     for role in (["primary", "secondary"] if h["network"] == "mainnet" else ["primary"])}
    assert set(placed) == expected_keys
    catalog = outputs["instance_types"]
    tfvars = (root / TF / "modules/fleet/main.tf").read_text()
    for key, host in placed.items():
        name, role = key.split("/")
        assert host["fqdn"] == f"{name}.{role}.production.mevops.internal"
        assert host["region"] == f"local-{role}"
        block = re.search(rf'"{name}" = \{{(.*?)\n    \}}', tfvars, re.S).group(1)
        cpu = float(re.search(r"cpu_cores\s+=\s+([\d.]+)", block)[1]) + 1  # + os_reserve
        mem = float(re.search(r"memory_gib\s+=\s+([\d.]+)", block)[1]) + 2
        for cloud, chosen in host["instance_type"].items():
            types = catalog[cloud]
            fits = [t["name"] for t in types if t["vcpus"] >= cpu and t["memory_gib"] >= mem]
            assert chosen == fits[0], (key, cloud, chosen, fits[:2])  # the cheapest type that fits
        for client, size in host["volumes"].items():
            raw = int(re.search(rf'"{client}" = \{{\s*size_gib = (\d+)', block)[1])
            assert size == math.ceil(raw * 120 / 100), (key, client)
    for key, rules in outputs["ingress"].items():
        model = hosts[key.split("/")[0]]
        world = {(r["protocol"], p) for r in rules if "0.0.0.0/0" in r["cidrs"] for p in range(r["from_port"], r["to_port"] + 1)}
        private = {(r["protocol"], r["from_port"]) for r in rules if "0.0.0.0/0" not in r["cidrs"]}
        assert model["public"] <= world, key
        assert not (model["private"] | model["loopback"]) & world, key       # RPC, metrics, auth: never public
        assert private == model["private"], key                              # only the needed private ports
        assert not any(r["from_port"] == 22 for r in rules), key             # no ssh without admin_cidrs
        for r in rules:
            if "0.0.0.0/0" not in r["cidrs"]:
                assert set(r["cidrs"]) <= {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}, r
    policies = outputs["dr_snapshot_policies"]
    assert set(policies) == {"primary", "secondary"}
    for role, policy in policies.items():
        assert policy["to_region"] == "local-dr"
        assert policy["volumes"] and all("-mainnet-" in v for v in policy["volumes"])
    assert set(outputs["networks"]) == {"primary", "secondary", "dr"}


def test_local_target_lifecycle_for_real(production, tmp_path):
    ws, root, env = production
    state = ws / "infrastructure/state/production/terraform/local/terraform.tfstate"

    planned = mevops("infra", "plan", "--target", "local", "--env", "production", "--root", str(root), "--json", ws=ws, env=env)
    assert planned.returncode == 0, planned.stderr[-3000:]
    plan = json.loads(planned.stdout)
    assert plan["changes"] and set(plan["actions"]) == {"create"} and plan["actions"]["create"] > 20
    assert "Plan: " in planned.stderr  # terraform's own plan, streamed
    assert (ws / "infrastructure/state/.gitignore").read_text().splitlines()[-1] == "*"
    assert not (root / TF / "targets/local/.terraform").exists() and not list((root / TF).rglob("*.tfstate"))

    # a failing apply: what was created is in the state, the message says what to do next
    failing = root / TF / "targets/local/zz_failing.tf"
    failing.write_text('resource "terraform_data" "boom" {\n  input = module.primary.network\n\n'
                       '  provisioner "local-exec" {\n    command = "echo quota exceeded >&2; exit 3"\n  }\n}\n')
    failed = mevops("infra", "apply", "-t", "local", "-e", "production", "--root", str(root), "--auto-approve", ws=ws, env=env)
    assert failed.returncode == 1, failed.stdout[-2000:] + failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr
    assert "terraform apply failed for target local" in failed.stderr and "quota exceeded" in failed.stderr
    assert str(state) in failed.stderr and "mevops infra apply --target local" in failed.stderr
    recorded = json.loads(state.read_text())["resources"]
    assert any(r["type"] == "terraform_data" and r["name"] == "network" for r in recorded)
    failing.unlink()

    applied = mevops("infra", "apply", "-t", "local", "-e", "production", "--root", str(root), "--auto-approve", "--json",
                     ws=ws, env=env)
    assert applied.returncode == 0, applied.stderr[-3000:]
    result = json.loads(applied.stdout)
    assert result["applied"] is True
    _check_outputs(result["outputs"], root)

    again = mevops("infra", "apply", "-t", "local", "-e", "production", "--root", str(root), ws=ws, env=env)
    assert again.returncode == 0 and "nothing to apply" in again.stdout  # no prompt needed: nothing changes
    shown = mevops("infra", "output", "-t", "local", "-e", "production", "--root", str(root), "--json", ws=ws, env=env)
    assert json.loads(shown.stdout) == result["outputs"]

    refused = mevops("infra", "destroy", "-t", "local", "-e", "production", "--root", str(root), ws=ws, env=env, stdin="")
    assert_user_error(refused, "--auto-approve")
    assert "Plan: 0 to add, 0 to change" in refused.stdout  # the destroy plan was shown first
    destroyed = mevops("infra", "destroy", "-t", "local", "-e", "production", "--root", str(root), "--auto-approve",
                       ws=ws, env=env)
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert "Destroy complete!" in destroyed.stdout
    assert json.loads(state.read_text())["resources"] == []
    nothing = mevops("infra", "destroy", "-t", "local", "-e", "production", "--root", str(root), "--auto-approve", ws=ws, env=env)
    assert nothing.returncode == 0 and "nothing to destroy" in nothing.stdout


def test_python_terraform_stock_destroy_fails_on_terraform_1(production):
    """Why TerraformRunner wraps destroy(): python-terraform 0.10's own sends -force, which the real
    Terraform 1.x rejects (the lifecycle test above destroys through the wrapper, for real)."""
    from python_terraform import Terraform

    _, root, _ = production
    stock_rc, _, stock_err = Terraform(working_dir=str(root / TF / "targets/local")).destroy(capture_output=True)
    assert stock_rc != 0 and "-force" in stock_err  # "flag provided but not defined: -force"


# -- bad input ----------------------------------------------------------------------------------
def test_cloud_targets_without_credentials_are_refused(production, tmp_path):
    ws, root, env = production
    scrubbed = {k: "" for k in os.environ if k.startswith(("AWS_", "GOOGLE_", "ARM_", "CLOUDSDK_", "AZURE_"))}
    home = tmp_path / "home"
    home.mkdir()
    for target, hint in (("aws", "AWS_PROFILE"), ("gcp", "GOOGLE_APPLICATION_CREDENTIALS"), ("azure", "ARM_CLIENT_ID")):
        result = mevops("infra", "plan", "--target", target, "--env", "production", "--root", str(root), ws=ws,
                        env={**env, **scrubbed, "HOME": str(home)})
        assert_user_error(result, f"--target: {target}: no {target} credentials found", hint)
        assert not (ws / f"infrastructure/state/production/terraform/{target}").exists()


def test_bad_input_exits_2_with_one_line(production, tmp_path):
    ws, root, env = production
    assert_user_error(mevops("infra", "plan", "--target", "openstack", "--root", str(root), "-e", "production", ws=ws, env=env),
                      "--target: openstack: unknown target (one of: local, aws, gcp, azure)")
    assert_user_error(mevops("infra", "plan", "--target", "local", "--root", str(root), "-e", "staging", ws=ws, env=env),
                      "rendered for production, not staging")
    assert_user_error(mevops("infra", "plan", "--target", "local", "--root", str(tmp_path / "nothing"), "-e", "production",
                             ws=ws, env=env), "not rendered; run `mevops render --env production")
    no_terraform = {**env, "PATH": str(Path(sys.executable).parent)}
    assert_user_error(mevops("infra", "apply", "--target", "local", "--root", str(root), "-e", "production", ws=ws,
                             env=no_terraform), "terraform is not installed")


# -- the cloud modules: offline checks (structural only) -------------------------------------------
def test_every_rendered_terraform_file_is_formatted(rendered):
    tool = require_tool("terraform")
    for env, root in rendered.items():
        result = run_tool(tool, "fmt", "-check", "-recursive", "-no-color", root / TF)
        assert result.returncode == 0, (env, result.stdout, result.stderr)
        assert {p.name for p in (root / TF / "targets").iterdir()} == {"local", *CLOUDS}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_cloud_target_parses_up_to_the_provider_download(rendered, cloud, tmp_path):
    """`terraform init -backend=false` reads every file of the target and its modules; offline it
    then fails, and must fail only, at finding the provider."""
    tool = require_tool("terraform")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(offline_cli_config(tmp_path)), "TF_DATA_DIR": str(tmp_path / "data")}
    work = rendered["production"] / TF / "targets" / cloud
    result = subprocess.run([tool, "init", "-backend=false", "-input=false", "-no-color"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert "Initializing modules..." in output and "- fleet in ../../modules/fleet" in output
    for role in ("primary", "secondary", "dr"):
        assert f"- {role} in ../../modules/{cloud}-region" in output
    errors = re.findall(r"Error: (.+)", output)
    assert errors == ["Failed to query available provider packages"], output[-3000:]


def _hcl(path: Path) -> dict:
    import hcl2

    return hcl2.loads(path.read_text())


def _module(directory: Path) -> dict:
    """Declarations of a module: variables (name → has default), locals, resources, data, outputs, module calls."""
    found = {"variables": {}, "locals": set(), "resources": set(), "data": set(), "outputs": set(), "modules": {}, "text": ""}
    for path in sorted(directory.glob("*.tf")):
        doc = _hcl(path)
        found["text"] += path.read_text()
        for block in doc.get("variable", []):
            for name, body in block.items():
                found["variables"][name.strip('"')] = "default" in body
        for block in doc.get("locals", []):
            found["locals"] |= {k for k in block if not k.startswith("__")}
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    names = {f"{rtype.strip(chr(34))}.{n.strip(chr(34))}" for n in named}
                    found["resources" if kind == "resource" else "data"] |= names
        for block in doc.get("output", []):
            found["outputs"] |= {k.strip('"') for k in block}
        for block in doc.get("module", []):
            for name, body in block.items():
                found["modules"][name.strip('"')] = body
    return found


def test_cloud_modules_are_consistent_with_their_callers(rendered):
    """python-hcl2, structural: every module call passes exactly the module's variables (all required
    ones), every var./local./resource reference is declared, each cloud module uses one provider,
    and every region module has the same interface as the local one (which runs for real)."""
    base = rendered["production"] / TF
    modules = {p.name: _module(p) for p in (base / "modules").iterdir()}
    local = modules["local-region"]
    for name, module in modules.items():
        text = module["text"]
        for ref in set(re.findall(r"\bvar\.(\w+)", text)):
            assert ref in module["variables"], (name, ref)
        for ref in set(re.findall(r"\blocal\.(\w+)", text)):
            assert ref in module["locals"], (name, ref)
        for rtype, rname in set(re.findall(r"\b((?:aws|google|azurerm|terraform)_\w+)\.(\w+)\b", text)):
            if not text[text.find(f"{rtype}.{rname}") - 5:].startswith("data."):
                assert f"{rtype}.{rname}" in module["resources"] | module["data"], (name, rtype, rname)
        if name.endswith("-region"):
            assert module["variables"] == local["variables"], name
            assert module["outputs"] == local["outputs"] == {"network", "hosts", "ingress", "snapshot_policy"}, name
            cloud = name.removesuffix("-region")
            prefix = CLOUDS.get(cloud, "terraform_")
            assert module["resources"] and all(r.startswith(prefix) for r in module["resources"]), name
            assert "each.value.ingress" in text or "host.ingress" in text, name  # ingress comes from the fleet only
    for target in ("local", *CLOUDS):
        caller = _module(base / "targets" / target)
        assert set(caller["modules"]) == {"fleet", "primary", "secondary", "dr"}, target
        for call, body in caller["modules"].items():
            source = body["source"].strip('"')
            callee = modules[Path(source).name]
            args = {k for k in body if k not in ("source", "count", "providers", "__is_block__")}
            required = {v for v, has_default in callee["variables"].items() if not has_default}
            assert required <= args <= set(callee["variables"]), (target, call, args ^ set(callee["variables"]))
            for ref in re.findall(r"module\.fleet\.(\w+)", caller["text"]):
                assert ref in modules["fleet"]["outputs"], (target, ref)
        if target in CLOUDS:
            provider = {"aws": "aws", "gcp": "google", "azure": "azurerm"}[target]
            assert f'provider "{provider}"' in caller["text"] and 'backend "local"' in caller["text"]


def test_cloud_modules_open_only_fleet_ports(rendered):
    """No cloud module hard-codes an ingress port: every security group / firewall / NSG rule is made
    from the fleet's ingress list (the same list the local target's tests check)."""
    base = rendered["production"] / TF / "modules"
    aws = (base / "aws-region/main.tf").read_text()
    ingress = re.search(r'dynamic "ingress" \{(.*?)\n  \}', aws, re.S).group(1)
    assert "for_each = each.value.ingress" in ingress and "ingress.value.from_port" in ingress
    assert aws.count("ingress {") == 0  # no static ingress block
    gcp = (base / "gcp-region/main.tf").read_text()
    assert re.search(r'resource "google_compute_firewall" "ingress" \{\s*for_each = local.rules', gcp)
    assert 'direction     = "INGRESS"' in gcp and gcp.count('resource "google_compute_firewall"') == 1
    azure = (base / "azure-region/main.tf").read_text()
    assert re.search(r'dynamic "security_rule" \{\s*for_each = \{ for i, rule in each.value.ingress', azure)
    assert azure.count("security_rule {") == 0
    for env in ENVIRONMENTS:
        fleet = (rendered[env] / TF / "modules/fleet/main.tf").read_text()
        assert "var.admin_cidrs" in fleet and "private_tcp" in fleet
