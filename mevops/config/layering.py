"""Layered configuration with provenance.

effective = config/global.yml (+ the mev/config files, each mounted under its key)
          ← environments/<env>/overrides.yml ← MEVOPS_<SECTION>__<KEY>... variables.

Merge rule (Helm's): mappings merge, scalars and lists replace, ``null`` deletes. Every value
remembers which file and line (or variable) set it, for ``config show --explain`` and for
error messages.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mevops.config.yamlsafe import YamlDoc, dotted, parse_yaml
from mevops.errors import MevopsError, Problem

# (path relative to the workspace, where its content is mounted in the effective config)
MOUNTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("config/global.yml", ()),
    ("mev/config/global.yml", ("mev_engine",)),
    ("mev/config/strategies.yml", ("strategy_policy",)),
    ("mev/config/risk-limits.yml", ("risk_limits",)),
)
ENV_PREFIX = "MEVOPS_"
ENV_SEPARATOR = "__"

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Origin:
    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass
class Layered:
    """A merged document and the origin of every path in it."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Key, Origin] = field(default_factory=dict)

    def origin_of(self, path: Key) -> Origin | None:
        path = tuple(path)
        while True:
            if path in self.origins:
                return self.origins[path]
            if not path:
                return None
            path = path[:-1]

    def locate(self, path: Key) -> tuple[str, int | None]:
        origin = self.origin_of(path)
        return (origin.file, origin.line) if origin else ("<config>", None)

    def problem(self, path: Key, reason: str) -> Problem:
        file, line = self.locate(path)
        return Problem(file, line, dotted(path), reason)

    # -- merging ------------------------------------------------------------------------
    def apply(self, data: Mapping[str, Any], origin_of: Any, mount: Key = ()) -> None:
        """Merge ``data`` at ``mount``; ``origin_of(relative_path)`` gives each value's origin."""
        target = self.data
        for i, part in enumerate(mount):
            if not isinstance(target.get(part), dict):
                target[part] = {}
                self.origins.setdefault(mount[: i + 1], origin_of(()))
            target = target[part]
        self._merge(target, data, mount, origin_of, len(mount))

    def _merge(self, target: dict[str, Any], over: Mapping[str, Any], prefix: Key, origin_of: Any, depth: int) -> None:
        for key, value in over.items():
            path = prefix + (key,)
            if value is None:
                target.pop(key, None)
                self._drop(path)
                continue
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                self.origins.setdefault(path, origin_of(path[depth:]))
                self._merge(target[key], value, path, origin_of, depth)
                continue
            target[key] = copy.deepcopy(value)
            self._drop(path)
            self._record(path, value, origin_of, depth)

    def _record(self, path: Key, value: Any, origin_of: Any, depth: int) -> None:
        self.origins[path] = origin_of(path[depth:])
        if isinstance(value, dict):
            for k, v in value.items():
                self._record(path + (k,), v, origin_of, depth)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._record(path + (i,), v, origin_of, depth)

    def _drop(self, path: Key) -> None:
        n = len(path)
        for key in [k for k in self.origins if k[:n] == path]:
            del self.origins[key]

    def apply_doc(self, doc: YamlDoc, mount: Key = ()) -> None:
        self.apply(doc.data, lambda rel: Origin(doc.file, doc.line_of(rel)), mount)


def env_layer(environ: Mapping[str, str] | None = None) -> list[tuple[str, Key, Any]]:
    """``MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT=10s`` → ("MEVOPS_...", ("global", "networking", "rpc_timeout"), "10s").

    Only variables with ``__`` are configuration; MEVOPS_WORKSPACE, MEVOPS_ROOT, MEVOPS_ENV and
    the like are not. Values are read as YAML scalars or flow collections (``null`` deletes).
    """
    environ = os.environ if environ is None else environ
    layers = []
    problems = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or ENV_SEPARATOR not in name:
            continue
        parts = name[len(ENV_PREFIX):].lower().split(ENV_SEPARATOR)
        if any(not p for p in parts):
            problems.append(Problem(name, None, "", f"empty key segment in {name!r}"))
            continue
        path = tuple(parts)
        try:
            value = parse_yaml(environ[name], name, require_mapping=False, allow_empty=True).data
        except MevopsError as exc:
            problems.extend(Problem(name, None, p.key, p.reason) for p in exc.problems)
            continue
        layers.append((name, path, value))
    if problems:
        raise MevopsError(problems)
    return layers


def apply_env(layered: Layered, environ: Mapping[str, str] | None = None) -> None:
    for name, path, value in env_layer(environ):
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        layered.apply(nested, lambda rel, name=name: Origin(name))
