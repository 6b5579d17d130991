"""``mevops infra k8s``: build ``kubernetes/overlays/<env>`` and server-side apply it.

The objects go through the lifecycle layer's kubernetes backend (the official client's
DynamicClient, ``PATCH application/apply-patch+yaml``, field manager ``mevops``) in dependency
order: namespaces, identities and configuration, storage, services, workloads, then disruption
budgets and network policies. The nodes' engine-API JWT Secrets, which kustomize cannot read from
the rendered tree, are made from ``nodes/chains/<chain>/config/jwt/<network>.hex``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.infra import InfraFailed
from mevops.infra.kustomize import build
from mevops.infra.state import KUBERNETES_DIR, rendered_dir

ORDER = ("Namespace", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Role", "RoleBinding",
         "Service", "StatefulSet", "Deployment", "PodDisruptionBudget", "NetworkPolicy")
WORKLOADS = ("StatefulSet", "Deployment")


def overlay_dir(root: Path, env: str) -> Path:
    return rendered_dir(root, f"{KUBERNETES_DIR}/overlays/{env}", env, "k8s")


def jwt_secrets(root: Path, objects: list[dict[str, Any]], env: str) -> list[dict[str, Any]]:
    """Secrets ``<chain>-<network>-jwt`` the node workloads mount and the build does not define."""
    defined = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects if o["kind"] == "Secret"}
    secrets: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        labels = obj["metadata"].get("labels", {})
        chain, network = labels.get("mevops.io/chain"), labels.get("mevops.io/network")
        namespace = obj["metadata"].get("namespace")
        for volume in obj["spec"]["template"]["spec"].get("volumes", []):
            name = (volume.get("secret") or {}).get("secretName")
            if not name or name != f"{chain}-{network}-jwt" or (namespace, name) in defined | set(secrets):
                continue
            path = root / "nodes" / "chains" / str(chain) / "config" / "jwt" / f"{network}.hex"
            if not path.is_file():
                raise MevopsError(Problem(str(path), None, name, "the engine API JWT is missing; run `mevops render`"))
            secrets[(namespace, name)] = {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": {"app.kubernetes.io/part-of": "mevops", "app.kubernetes.io/managed-by": "mevops",
                                        "mevops.io/chain": chain, "mevops.io/network": network,
                                        "mevops.io/environment": env}},
                "data": {"jwt.hex": base64.b64encode(path.read_bytes().strip()).decode()},
            }
    return list(secrets.values())


def ordered(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {kind: i for i, kind in enumerate(ORDER)}
    return sorted(objects, key=lambda o: rank.get(o["kind"], len(ORDER)))  # stable within a kind


def build_overlay(root: Path, env: str) -> list[dict[str, Any]]:
    """The environment's objects in apply order, the JWT Secrets included."""
    objects = build(overlay_dir(root, env))
    return ordered(objects + jwt_secrets(root, objects, env))


@dataclass
class ApplyReport:
    applied: list[str] = field(default_factory=list)


def describe(obj: dict[str, Any]) -> str:
    namespace = obj["metadata"].get("namespace")
    return f"{obj['kind']} {namespace + '/' if namespace else ''}{obj['metadata']['name']}"


def apply_objects(objects: list[dict[str, Any]], kubeconfig: str | None, context: str | None,
                  echo: Callable[[str], None] = print) -> ApplyReport:
    """Server-side apply each object; a refusal stops with what was applied and what to do (exit 1)."""
    from mevops.lifecycle.kubernetes import KubernetesBackend

    backend = KubernetesBackend(kubeconfig, context)
    backend.api  # noqa: B018 - no cluster or no configuration: exit 2 before anything is applied
    report = ApplyReport()
    for obj in objects:
        try:
            backend.apply(obj, obj["metadata"].get("namespace") or "default")
        except MevopsError as exc:
            raise InfraFailed(f"{describe(obj)}: {exc.problems[0].reason}\napplied {len(report.applied)} of {len(objects)} "
                              "objects before it; fix the cause and run `mevops infra k8s apply` again (server-side "
                              "apply is idempotent)") from None
        report.applied.append(describe(obj))
        echo(f"applied {describe(obj)}")
    return report
