"""The kubernetes backend: the rendered manifests, server-side applied with the official client.

``up`` applies ``nodes/chains/<chain>/deployment/kubernetes/<network>/`` in the order and namespace
its kustomization.yaml names (PATCH, ``application/apply-patch+yaml``, field manager ``mevops``),
plus the engine-API JWT Secret the workloads mount, made from the rendered JWT file. ``down``
scales the StatefulSets and Deployments to zero through their scale subresource: volumes (PVCs)
and configuration stay. ``status`` reads each workload's rollout and its pods; ``logs`` reads the
pods' logs.

The cluster is the current context of KUBECONFIG (or ~/.kube/config), else the in-cluster
service account.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.lifecycle.base import Node, ServiceStatus

FIELD_MANAGER = "mevops"
WORKLOADS = ("StatefulSet", "Deployment")
CRASHING = {"CrashLoopBackOff", "Error", "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError",
            "CreateContainerError", "InvalidImageName", "RunContainerError"}


@dataclass
class Manifests:
    directory: Path
    namespace: str
    objects: list[dict[str, Any]]

    def workload(self, name: str) -> dict[str, Any] | None:
        return next((o for o in self.objects if o["kind"] in WORKLOADS and o["metadata"]["name"] == name), None)


def manifest_dir(node: Node) -> Path:
    return Path(node.chain.dir) / "deployment" / "kubernetes" / node.network.key


def load_manifests(node: Node) -> Manifests:
    """The rendered objects in apply order (kustomization.yaml's resources, else file order)."""
    import yaml

    directory = manifest_dir(node)
    kustomization = directory / "kustomization.yaml"
    spec = yaml.safe_load(kustomization.read_text()) if kustomization.is_file() else None
    files = [directory / name for name in (spec or {}).get("resources", [])] or sorted(
        p for p in directory.glob("*.y*ml") if p.name != "kustomization.yaml")
    if not files:
        hint = " (the local network has none: use --backend process or docker)" if node.network.key == "local" else ""
        raise MevopsError(Problem(str(directory), None, node.name,
                                  f"no rendered Kubernetes manifests; run `mevops render` first{hint}"))
    objects = []
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except FileNotFoundError:
            raise MevopsError(Problem(str(path), None, node.name,
                                      "listed in kustomization.yaml but missing; run `mevops render`")) from None
        except yaml.YAMLError as exc:
            raise MevopsError(Problem(str(path), None, node.name, f"not valid YAML: {exc}")) from None
        for doc in docs:
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
                raise MevopsError(Problem(str(path), None, node.name, "a document without apiVersion and kind"))
            objects.append(doc)
    return Manifests(directory, (spec or {}).get("namespace") or node.network.namespace, objects)


def jwt_secret(node: Node, manifests: Manifests) -> dict[str, Any] | None:
    """The Secret the workloads mount for the engine API JWT (kustomize cannot read the file)."""
    name = f"{node.chain.name}-{node.network.key}-jwt"
    mounted = any(v.get("secret", {}).get("secretName") == name for o in manifests.objects if o["kind"] in WORKLOADS
                  for v in o["spec"]["template"]["spec"].get("volumes", []))
    if not mounted or any(o["kind"] == "Secret" and o["metadata"]["name"] == name for o in manifests.objects):
        return None
    path = Path(node.network.jwt_path or "")
    if not path.is_file():
        raise MevopsError(Problem(str(path), None, node.name, "the engine API JWT is missing; run `mevops render` first"))
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "mevops",
                                                  "app.kubernetes.io/managed-by": "mevops"}},
            "data": {"jwt.hex": base64.b64encode(path.read_bytes().strip()).decode()}}


def _discovery_cache(host: str) -> str:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mevops" / "kubernetes"
    base.mkdir(parents=True, exist_ok=True)
    return str(base / f"discovery-{hashlib.sha256(host.encode()).hexdigest()[:16]}.json")


def _load_config(kubeconfig: str | None, context: str | None):
    try:
        from kubernetes import client, config
    except ModuleNotFoundError:
        raise MevopsError(Problem("--backend kubernetes", None, "", "the kubernetes backend needs the official client: "
                                  "pip install kubernetes")) from None

    configuration = client.Configuration()
    files = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")  # read now, not at import
    try:
        config.load_kube_config(config_file=files, context=context, client_configuration=configuration)
    except (config.ConfigException, FileNotFoundError, TypeError) as exc:
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise MevopsError(Problem("--backend kubernetes", None, "", f"no Kubernetes configuration ({exc}); set KUBECONFIG "
                                      "or choose --backend process or docker")) from None
        config.load_incluster_config(client_configuration=configuration)
    configuration.retries = 1
    return configuration


def _api_error(what: str, exc: Exception) -> MevopsError:
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None) or getattr(exc, "reason", None) or str(exc)
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    try:
        import json

        body = json.loads(body).get("message", body)
    except (ValueError, TypeError, AttributeError):
        pass
    return MevopsError(Problem(what, None, "", f"the Kubernetes API refused ({status}): {str(body)[:300]}"))


class KubernetesBackend:
    name = "kubernetes"

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, field_manager: str = FIELD_MANAGER) -> None:
        self.kubeconfig, self.context, self.field_manager = kubeconfig, context, field_manager
        self._api = None

    @property
    def api(self):
        """A DynamicClient over the configured cluster (discovery answered), or exit 2."""
        if self._api is None:
            from kubernetes import client
            from kubernetes.dynamic import DynamicClient

            configuration = _load_config(self.kubeconfig, self.context)
            try:
                self._api = DynamicClient(client.ApiClient(configuration), cache_file=_discovery_cache(configuration.host))
            except Exception as exc:  # noqa: BLE001 - urllib3, ApiException, ValueError: one answer for all
                reason = str(getattr(exc, "reason", None) or exc).splitlines()[0][:200]
                raise MevopsError(Problem("--backend kubernetes", None, "", f"no Kubernetes API at {configuration.host} "
                                          f"({reason}); check KUBECONFIG or choose --backend process")) from None
        return self._api

    def _resource(self, obj: dict[str, Any]):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.api.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        except ResourceNotFoundError:
            raise MevopsError(Problem(obj["kind"], None, obj["apiVersion"], "the cluster does not serve this kind")) from None

    # -- up -------------------------------------------------------------------------------
    def up(self, node: Node) -> list[ServiceStatus]:
        manifests = load_manifests(node)
        secret = jwt_secret(node, manifests)
        objects = manifests.objects + ([secret] if secret else [])
        objects.sort(key=lambda o: o["kind"] != "Namespace")  # stable: the rest keep kustomization order
        for obj in objects:
            self.apply(obj, manifests.namespace)
        return self._statuses(node, manifests)

    def apply(self, obj: dict[str, Any], namespace: str) -> None:
        from kubernetes.client.exceptions import ApiException

        resource = self._resource(obj)
        body = {**obj, "metadata": {**obj["metadata"], **({"namespace": namespace} if resource.namespaced else {})}}
        try:
            resource.server_side_apply(body=body, name=obj["metadata"]["name"],
                                       namespace=namespace if resource.namespaced else None,
                                       field_manager=self.field_manager, force_conflicts=True)
        except ApiException as exc:
            raise _api_error(f"{obj['kind']}/{obj['metadata']['name']}", exc) from None

    # -- down -----------------------------------------------------------------------------
    def down(self, node: Node) -> list[ServiceStatus]:
        from kubernetes.client.exceptions import ApiException

        manifests = load_manifests(node)
        for obj in reversed([o for o in manifests.objects if o["kind"] in WORKLOADS]):
            scale = self._resource(obj).subresources["scale"]
            try:
                scale.patch(body={"spec": {"replicas": 0}}, name=obj["metadata"]["name"], namespace=manifests.namespace,
                            content_type="application/merge-patch+json")
            except ApiException as exc:
                if exc.status != 404:
                    raise _api_error(f"{obj['kind']}/{obj['metadata']['name']}", exc) from None
        return self._statuses(node, manifests)

    # -- status ---------------------------------------------------------------------------
    def status(self, node: Node) -> list[ServiceStatus]:
        return self._statuses(node, load_manifests(node))

    def _statuses(self, node: Node, manifests: Manifests) -> list[ServiceStatus]:
        return [self._status(client, manifests) for client in node.services]

    def _get(self, obj: dict[str, Any], namespace: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._resource(obj).get(name=obj["metadata"]["name"], namespace=namespace).to_dict()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise _api_error(f"{obj['kind']}/{obj['metadata']['name']}", exc) from None

    def _pods(self, workload: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
        pods = self.api.resources.get(api_version="v1", kind="Pod")
        return pods.get(namespace=namespace, label_selector=selector).to_dict().get("items") or []

    def _status(self, client, manifests: Manifests) -> ServiceStatus:
        declared = manifests.workload(client.service)
        if declared is None:
            return ServiceStatus(client.service, client.name, "unknown",
                                 detail=f"no workload {client.service} in {manifests.directory}")
        live = self._get(declared, manifests.namespace)
        if live is None:
            return ServiceStatus(client.service, client.name, "stopped", detail="not applied")
        pods = self._pods(live, manifests.namespace)
        return workload_status(client, live, pods)

    # -- logs -----------------------------------------------------------------------------
    def logs(self, node: Node, *, lines: int = 100, follow: bool = False) -> Iterator[str]:
        from kubernetes import client as k8s

        from mevops.lifecycle.supervise import Redactor

        manifests = load_manifests(node)
        core = k8s.CoreV1Api(self.api.client)
        for client in node.services:
            declared = manifests.workload(client.service)
            live = self._get(declared, manifests.namespace) if declared else None
            for pod in self._pods(live, manifests.namespace) if live else []:
                redact = Redactor()
                response = core.read_namespaced_pod_log(pod["metadata"]["name"], manifests.namespace, container=client.name,
                                                        tail_lines=lines, follow=follow and client is node.services[-1],
                                                        _preload_content=False)
                for line in _lines(response):
                    yield redact(line).decode(errors="replace")


def _lines(response) -> Iterator[bytes]:
    raw = getattr(response, "response", response)  # RESTResponse wraps the urllib3 response
    pending = b""
    for chunk in raw.stream(4096):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line + b"\n" for line in complete)
    if pending:
        yield pending + b"\n"


def workload_status(client, live: dict[str, Any], pods: list[dict[str, Any]]) -> ServiceStatus:
    """A StatefulSet's or Deployment's rollout and its pods, as one service state."""
    spec, status, meta = live.get("spec", {}), live.get("status") or {}, live.get("metadata", {})
    want, ready = spec.get("replicas", 1), status.get("readyReplicas") or 0
    restarts = sum(c.get("restartCount", 0) for p in pods for c in (p.get("status") or {}).get("containerStatuses") or [])
    rolled = (status.get("observedGeneration", 0) >= meta.get("generation", 0) and (status.get("updatedReplicas") or 0) >= want
              and status.get("currentRevision", "") == status.get("updateRevision", ""))
    extra: dict[str, object] = {"kind": live.get("kind"), "ready": f"{ready}/{want}", "restarts": restarts,
                                "rollout": "complete" if rolled else "in progress", "pods": [p["metadata"]["name"] for p in pods]}
    if want == 0:
        state, detail = ("stopped", "scaled to 0") if not pods else ("stopping", f"{len(pods)} pod(s) terminating")
        return ServiceStatus(client.service, client.name, state, detail=detail, extra=extra)
    waiting = [s["state"]["waiting"] for p in pods for s in (p.get("status") or {}).get("containerStatuses") or []
               if (s.get("state") or {}).get("waiting", {}).get("reason") in CRASHING]
    if waiting:
        return ServiceStatus(client.service, client.name, "crashed", extra=extra,
                             detail=f"{waiting[0]['reason']}: {waiting[0].get('message', '')}".rstrip(": "))
    if ready >= want and rolled:
        return ServiceStatus(client.service, client.name, "running", extra=extra)
    return ServiceStatus(client.service, client.name, "starting", detail=f"{ready}/{want} ready", extra=extra)
