"""CI pipelines (GitHub Actions, GitLab CI) and the monitoring of what the Kubernetes overlay runs.

Validated for real: the GitLab pipeline against check-jsonschema's vendored gitlab-ci schema, the
in-cluster Prometheus config with promtool. Checked structurally: every `mevops ...` command the
pipelines run exists in the CLI with the options used; every node client with a metrics port and
every engine replica is a scrape target at an address the overlay serves; the in-cluster Vector
pipeline selects every mevops pod.
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.integration.conftest import require_tool, run_tool
from tests.integration.test_infra_kubernetes import build

GITLAB = "infrastructure/automation/ci-cd/gitlab-ci/.gitlab-ci.yml"
GITHUB = "infrastructure/automation/ci-cd/github-actions/mevops.yml"
PROMETHEUS_K8S = "infrastructure/monitoring/prometheus/prometheus-kubernetes.yml"
VECTOR_K8S = "infrastructure/monitoring/logging/vector-kubernetes.yaml"


def test_gitlab_pipeline_matches_the_gitlab_ci_schema(rendered):
    tool = require_tool("check-jsonschema")
    result = run_tool(tool, "--builtin-schema", "vendor.gitlab-ci", *(root / GITLAB for root in rendered.values()))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _scripts(root) -> dict[str, str]:
    """pipeline → all the shell it runs."""
    gitlab = yaml.safe_load((root / GITLAB).read_text())
    github = yaml.safe_load((root / GITHUB).read_text())
    return {
        "gitlab": "\n".join(line for job in gitlab.values() if isinstance(job, dict) and "script" in job
                            for line in [*job.get("before_script", []), *job["script"]]),
        "github": "\n".join(step.get("run", "") for job in github["jobs"].values() for step in job["steps"]),
    }


def _cli_commands() -> dict[tuple[str, ...], set[str]]:
    """Every `mevops` command path → its option names, from the real typer app."""
    import typer.main

    from mevops.cli import app, register

    register()  # commands are registered lazily (only the one a command line names)
    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command, path: tuple[str, ...]) -> None:  # noqa: ANN001
        found[path] = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("pipeline", ["gitlab", "github"])
def test_pipelines_run_the_gates_with_real_commands(rendered, pipeline):
    script = _scripts(rendered["production"])[pipeline]
    for gate in ("mevops config validate", "mevops strategy validate", "mevops render --check",
                 "mevops infra plan --target local", "mevops infra k8s build", "kubernetes-validate --strict",
                 "ansible-playbook --syntax-check", "pytest -q tests"):
        assert gate in script, (pipeline, gate)
    commands = _cli_commands()
    calls = re.findall(r"\bmevops ((?:[a-z][\w-]* ?)+(?:--?[\w-]+[^\n;&|>]*)?)", script)
    assert len(calls) >= 5
    for call in calls:
        words = shlex.split(call.replace("$", "X"))
        path: tuple[str, ...] = ()
        while words and (*path, words[0]) in commands:
            path = (*path, words.pop(0))
        assert path, call
        for word in words:
            if word.startswith("-"):
                assert word.split("=")[0] in commands[path], (pipeline, call, word)


def test_in_cluster_prometheus_scrapes_every_node_and_engine_replica(rendered, tmp_path):
    promtool = require_tool("promtool")
    for env, root in rendered.items():
        result = run_tool(promtool, "check", "config", root / PROMETHEUS_K8S)
        assert result.returncode == 0, (env, result.stdout[-2000:], result.stderr[-2000:])
    root = rendered["production"]
    jobs = {j["job_name"]: j for j in yaml.safe_load((root / PROMETHEUS_K8S).read_text())["scrape_configs"]}
    objects = build(root, "production")
    services = {(o["metadata"]["name"], o["metadata"]["namespace"]): o for o in objects if o["kind"] == "Service"}
    ports = yaml.safe_load((root / "nodes/config/ports.yml").read_text())["ports"]
    host_config = yaml.safe_load((root / "infrastructure/monitoring/prometheus/prometheus.yml").read_text())
    host_jobs = {j["job_name"]: j for j in host_config["scrape_configs"]}
    metrics = {f"{p['chain']}-{p['network']}-{p['client']}" for p in ports if p["name"] == "metrics" and p["network"] != "local"}
    assert metrics
    for service in metrics:
        job = jobs[service]
        assert job["metrics_path"] == host_jobs[service]["metrics_path"]
        (target,) = job["static_configs"][0]["targets"]
        name, namespace, port = re.fullmatch(r"([\w-]+)\.([\w-]+)\.svc:(\d+)", target).groups()
        served = services[(name, namespace)]
        assert int(port) in {p["port"] for p in served["spec"]["ports"]}, target
        assert job["static_configs"][0]["labels"] == host_jobs[service]["static_configs"][0]["labels"]
    (sd,) = jobs["mevops-engine"]["dns_sd_configs"]
    name, namespace = re.fullmatch(r"([\w-]+)\.([\w-]+)\.svc\.cluster\.local", sd["names"][0]).groups()
    replicas = services[(name, namespace)]
    assert replicas["spec"]["clusterIP"] == "None"  # headless: one address per replica
    assert sd["port"] == replicas["spec"]["ports"][0]["port"]
    engine = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "mevops-engine")
    assert replicas["spec"]["selector"].items() <= engine["spec"]["template"]["metadata"]["labels"].items()
    groups = yaml.safe_load((root / "infrastructure/monitoring/prometheus/rules/mev.yml").read_text())["groups"]
    rules = {r["alert"]: r["expr"] for g in groups for r in g["rules"] if "alert" in r}
    assert any('job="mevops-engine"' in expr for expr in rules.values())  # the alerts read this job


def test_in_cluster_log_shipping_selects_every_mevops_pod(rendered):
    root = rendered["production"]
    doc = yaml.safe_load((root / VECTOR_K8S).read_text())
    ids = set(doc["sources"]) | set(doc["transforms"])
    for section in ("transforms", "sinks"):
        for name, component in doc[section].items():
            assert component["inputs"] and set(component["inputs"]) <= ids, (section, name)
    source = doc["sources"]["pods"]
    key, value = source["extra_label_selector"].split("=")
    ns_key, ns_value = source["extra_namespace_label_selector"].split("=")
    objects = build(root, "production")
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert obj["spec"]["template"]["metadata"]["labels"].get(key) == value, obj["metadata"]["name"]
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["labels"].get(ns_key) == ns_value, obj["metadata"]["name"]
    assert doc["sinks"]["loki"]["endpoint"].startswith("http://loki.monitoring.svc:")
