"""mevops.infra pieces without the tools: credentials detection, the python-terraform wrapper's argv,
the built-in kustomize subset, --var parsing, and a light `mevops infra` import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mevops.errors import MevopsError


# -- credentials ---------------------------------------------------------------------------------
@pytest.mark.parametrize("target, env, files, found", [
    ("local", {}, [], True),
    ("aws", {}, [], False),
    ("aws", {"AWS_ACCESS_KEY_ID": "A"}, [], False),                       # a key id without its secret
    ("aws", {"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"}, [], True),
    ("aws", {"AWS_PROFILE": "ops"}, [], True),
    ("aws", {}, [".aws/credentials"], True),
    ("gcp", {}, [], False),
    ("gcp", {"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent.json"}, [], False),
    ("gcp", {}, [".config/gcloud/application_default_credentials.json"], True),
    ("azure", {"ARM_CLIENT_ID": "c"}, [], False),
    ("azure", {"ARM_CLIENT_ID": "c", "ARM_CLIENT_SECRET": "s"}, [], True),
    ("azure", {"ARM_USE_MSI": "true"}, [], True),
    ("azure", {}, [".azure/msal_token_cache.json"], True),
])
def test_missing_credentials(tmp_path, target, env, files, found):
    from mevops.infra.credentials import missing_credentials

    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    message = missing_credentials(target, env, tmp_path)
    assert (message is None) is found
    if message:
        assert message.startswith(f"no {target} credentials found: ")


# -- the python-terraform wrapper -------------------------------------------------------------------
def _argv(call) -> list[str]:  # noqa: ANN001
    from mevops.infra.terraform import TerraformRunner

    runner = TerraformRunner(Path("."), binary="terraform", env={})
    seen: list[list[str]] = []
    def record(cmd: str, *args: object, **kw: object) -> tuple[int, str, str]:
        kw.pop("echo", None)
        seen.append(runner.generate_cmd_string(cmd, *args, **kw))
        return 0, "", ""

    runner.cmd = record  # type: ignore[method-assign]
    call(runner)
    (argv,) = seen
    return argv


def test_runner_argv_fits_terraform_1():
    from python_terraform import IsFlagged

    destroy = _argv(lambda r: r.destroy(input=False, lock_timeout="60s"))
    assert destroy[:2] == ["terraform", "destroy"] and "-auto-approve" in destroy and "-force" not in destroy
    plan = _argv(lambda r: r.plan(out="p.tfplan", input=False))
    assert {"-detailed-exitcode", "-out=p.tfplan", "-input=false", "-no-color"} <= set(plan)
    apply = _argv(lambda r: r.apply("p.tfplan", input=False))
    assert apply[-1] == "p.tfplan" and not any(a.startswith("-var") for a in apply)  # a saved plan takes no variables
    init = _argv(lambda r: r.init(backend_config={"path": "/ws/state.tfstate"}, reconfigure=IsFlagged, input=False))
    assert "-backend-config=path=/ws/state.tfstate" in init and "-reconfigure" in init
    for argv in (destroy, plan, apply, init):
        assert not any(a.startswith("-var-file") for a in argv)  # python-terraform's empty {} var file is gone


def test_terraform_errors_are_shortened_to_what_matters():
    from mevops.infra.terraform import _errors

    out = "module.x: Creating...\n╷\n│ Error: local-exec provisioner error\n│ \n│   with terraform_data.boom,\n╵\n"
    assert _errors(out).splitlines()[0] == "Error: local-exec provisioner error"


# -- the built-in kustomize ---------------------------------------------------------------------------
def _write(directory: Path, files: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        docs = content if isinstance(content, list) else [content]
        (directory / name).write_text(yaml.safe_dump_all(docs))
    return directory


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
              "spec": {"replicas": 1, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                  "initContainers": [{"name": "i", "image": "busybox:1"}],
                  "containers": [{"name": "c", "image": "mevops/engine:0.0.1"},
                                 {"name": "s", "image": "ghcr.io/x/side@sha256:" + "0" * 64}]}}}}


def test_build_applies_namespace_labels_replicas_and_images(tmp_path):
    from mevops.infra.kustomize import build

    _write(tmp_path / "base", {"kustomization.yaml": {"resources": ["all.yaml"]},
                               "all.yaml": [DEPLOYMENT, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}]})
    _write(tmp_path / "overlay", {"kustomization.yaml": {
        "namespace": "prod", "resources": ["../base"],
        "labels": [{"pairs": {"env": "prod"}, "includeSelectors": False, "includeTemplates": True}],
        "replicas": [{"name": "app", "count": 3}],
        "images": [{"name": "mevops/engine", "newTag": "1.2.3"}, {"name": "ghcr.io/x/side", "newName": "mirror/side"}]}})
    deployment, namespace = build(tmp_path / "overlay")
    assert namespace["metadata"] == {"name": "x", "labels": {"env": "prod"}}  # cluster-scoped: no namespace
    assert deployment["metadata"]["namespace"] == "prod" and deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"] == {"a": "b", "env": "prod"}
    assert [c["image"] for c in pod["spec"]["containers"]] == ["mevops/engine:1.2.3", "mirror/side@sha256:" + "0" * 64]
    assert pod["spec"]["initContainers"][0]["image"] == "busybox:1"


@pytest.mark.parametrize("spec, files, reason", [
    ({"resources": ["a.yaml"], "patches": [{"path": "p.yaml"}]}, {"a.yaml": DEPLOYMENT}, "patches: not supported"),
    ({"resources": ["a.yaml", "b.yaml"]}, {"a.yaml": DEPLOYMENT, "b.yaml": DEPLOYMENT}, "Deployment app is defined twice"),
    ({"resources": ["missing.yaml"]}, {}, "missing.yaml: no such file or directory"),
    ({"resources": ["a.yaml"], "labels": [{"pairs": {"x": "y"}, "includeSelectors": True}]}, {"a.yaml": DEPLOYMENT},
     "selectors are immutable"),
    ({"resources": ["a.yaml"]}, {"a.yaml": {"kind": "ConfigMap"}}, "without apiVersion, kind and metadata.name"),
])
def test_build_refuses_what_it_cannot_do_faithfully(tmp_path, spec, files, reason):
    from mevops.infra.kustomize import build

    _write(tmp_path, {"kustomization.yaml": spec, **files})
    with pytest.raises(MevopsError) as err:
        build(tmp_path)
    assert reason in str(err.value)


def test_apply_order_puts_namespaces_first_and_keeps_the_rest_stable():
    from mevops.infra.kubernetes import ordered

    objs = [{"kind": k, "metadata": {"name": str(i)}} for i, k in enumerate(
        ["Deployment", "ConfigMap", "Namespace", "Widget", "Service", "ConfigMap", "Namespace"])]
    assert [(o["kind"], o["metadata"]["name"]) for o in ordered(objs)] == [
        ("Namespace", "2"), ("Namespace", "6"), ("ConfigMap", "1"), ("ConfigMap", "5"), ("Service", "4"),
        ("Deployment", "0"), ("Widget", "3")]


# -- --var ------------------------------------------------------------------------------------------
def test_vars_are_yaml_values():
    from mevops.infra.ansible import parse_vars

    assert parse_vars(["a=1", "b=[x, y]", "c=/mnt/img", "d="]) == {"a": 1, "b": ["x", "y"], "c": "/mnt/img", "d": ""}
    for bad in ("novalue", "1x=2", "k=[unclosed"):
        with pytest.raises(MevopsError):
            parse_vars([bad])


def test_infra_command_module_imports_no_driver():
    code = ("import sys, mevops.commands.infra; "
            "print(sorted(m for m in ('python_terraform', 'ansible_runner', 'kubernetes', 'yaml', 'hcl2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
