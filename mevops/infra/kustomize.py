"""Build a kustomization in-process: the subset of kustomize the rendered overlays use.

``resources`` (files and directories, recursively), ``namespace``, ``labels`` (without
selectors), ``replicas`` and ``images`` — enough for ``infrastructure/deployment/kubernetes/
overlays/<env>``, with kustomize's semantics for each (the tests compare the result with
``kubectl kustomize``). A field outside the subset (a patch someone added by hand) is refused
with exit 2 rather than silently ignored: apply such a tree with ``kubectl apply -k``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "replicas", "images"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver",
                  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService", "VolumeSnapshotClass"}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}


def _loader():  # noqa: ANN202
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the rendered node manifests are large


def _kustomization(directory: Path) -> tuple[Path, dict[str, Any]]:
    import yaml

    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            try:
                spec = yaml.load(path.read_text(), Loader=_loader()) or {}
            except yaml.YAMLError as exc:
                raise MevopsError(Problem(str(path), None, "", f"not valid YAML: {str(exc).splitlines()[0]}")) from None
            if not isinstance(spec, dict):
                raise MevopsError(Problem(str(path), None, "", "a kustomization is a mapping"))
            return path, spec
    raise MevopsError(Problem(str(directory), None, "", "no kustomization.yaml here; run `mevops render`"))


def _documents(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        docs = [d for d in yaml.load_all(path.read_text(), Loader=_loader()) if d]
    except yaml.YAMLError as exc:
        raise MevopsError(Problem(str(path), None, "", f"not valid YAML: {str(exc).splitlines()[0]}")) from None
    for doc in docs:
        named = isinstance(doc, dict) and isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name")
        if not named or not doc.get("apiVersion") or not doc.get("kind"):
            raise MevopsError(Problem(str(path), None, "", "a document without apiVersion, kind and metadata.name"))
    return docs


def object_id(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    group = obj["apiVersion"].rpartition("/")[0]
    return group, obj["kind"], obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def build(directory: Path) -> list[dict[str, Any]]:
    """The objects of the kustomization in ``directory``, transformed; exit 2 on anything unsupported."""
    path, spec = _kustomization(directory)
    unsupported = sorted(set(spec) - SUPPORTED)
    if unsupported:
        raise MevopsError(Problem(str(path), None, unsupported[0], "not supported by mevops' built-in kustomize "
                                  f"(supported: {', '.join(sorted(SUPPORTED))}); apply this tree with `kubectl apply -k`"))
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources") or []:
        target = (directory / entry).resolve()
        if target.is_dir():
            objects += build(target)
        elif target.is_file():
            objects += _documents(target)
        else:
            raise MevopsError(Problem(str(path), None, "resources", f"{entry}: no such file or directory"))
    if spec.get("namespace"):
        _set_namespace(objects, spec["namespace"])
    for entry in spec.get("labels") or []:
        _add_labels(objects, entry, path)
    for entry in spec.get("replicas") or []:
        for obj in objects:
            if obj["kind"] in SCALABLE and obj["metadata"]["name"] == entry["name"]:
                obj.setdefault("spec", {})["replicas"] = int(entry["count"])
    for entry in spec.get("images") or []:
        for obj in objects:
            for container in _containers(obj):
                container["image"] = _retag(container.get("image", ""), entry)
    seen: dict[tuple[str, str, str, str], int] = {}
    for obj in objects:
        key = object_id(obj)
        if key in seen:
            raise MevopsError(Problem(str(path), None, "resources", f"{key[1]} {key[2] + '/' if key[2] else ''}{key[3]} "
                                      "is defined twice"))
        seen[key] = 1
    return objects


def _set_namespace(objects: list[dict[str, Any]], namespace: str) -> None:
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace


def _add_labels(objects: list[dict[str, Any]], entry: dict[str, Any], path: Path) -> None:
    if entry.get("includeSelectors"):
        raise MevopsError(Problem(str(path), None, "labels.includeSelectors", "selectors are immutable: not supported "
                                  "by mevops' built-in kustomize; apply with `kubectl apply -k`"))
    pairs = {str(k): str(v) for k, v in (entry.get("pairs") or {}).items()}
    for obj in objects:
        obj["metadata"].setdefault("labels", {}).update(pairs)
        if entry.get("includeTemplates"):
            template = (obj.get("spec") or {}).get("template")
            if isinstance(template, dict):
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Pod":
        pod = spec
    elif obj["kind"] == "CronJob":
        pod = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    else:
        pod = spec.get("template", {}).get("spec", {}) if isinstance(spec.get("template"), dict) else {}
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _retag(image: str, entry: dict[str, Any]) -> str:
    if _image_name(image) != entry["name"]:
        return image
    name = entry.get("newName") or entry["name"]
    if entry.get("digest"):
        return f"{name}@{entry['digest']}"
    if entry.get("newTag"):
        return f"{name}:{entry['newTag']}"
    rest = image[len(_image_name(image)):]
    return name + rest
