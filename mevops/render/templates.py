"""The Jinja environment: StrictUndefined, no autoescape, a few serialisation filters."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jinja2
import yaml

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _to_yaml(value: Any, indent: int = 0) -> str:
    text = yaml.dump(value, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, width=1000).rstrip("\n")
    if indent:
        text = text.replace("\n", "\n" + " " * indent)
    return text


def _to_json(value: Any, indent: int | None = 2) -> str:
    return json.dumps(value, indent=indent, sort_keys=False)


def _toml(value: Any) -> str:
    """A TOML value: strings quoted, booleans lowercase, lists inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def _yaml_str(value: Any) -> str:
    return json.dumps(str(value))  # JSON strings are valid YAML scalars


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates cached per user (keyed by source checksum, so never stale)."""
    from mevops.render.inputs import user_cache_dir

    base = user_cache_dir("jinja")
    return jinja2.FileSystemBytecodeCache(str(base)) if base is not None else None


def make_environment(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        bytecode_cache=bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters.update(to_yaml=_to_yaml, to_json=_to_json, toml=_toml, shquote=shlex.quote, yaml_str=_yaml_str)
    from mevops.render import grafana

    env.globals["grafana"] = grafana
    return env
