"""Safe YAML loading that remembers where every key came from.

PyYAML's composer builds the node tree (with line marks); we construct Python values
ourselves so we can refuse what a config file must never contain: duplicate keys, python
or other non-standard tags, tabs used for indentation, alias bombs and recursive aliases,
binary garbage, several documents, and (where asked) anything but a mapping at the top.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

# PyYAML's pure-Python reader compiles a regex of all non-printable characters at import (about
# 30 ms, at every start of the CLI). Only that reader uses it, and the libyaml (C) loader is used
# here: it is compiled on first use instead (PyYAML behaves the same; a changed pattern is simply
# compiled as before).
_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"


class _LazyPattern:
    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


def _import_yaml() -> Any:
    import sys

    if "yaml" in sys.modules:
        return sys.modules["yaml"]
    compile_ = re.compile

    def compile_lazily(pattern: Any, flags: int = 0) -> Any:
        return _LazyPattern(pattern, flags) if pattern == _NON_PRINTABLE else compile_(pattern, flags)

    re.compile = compile_lazily  # type: ignore[assignment]
    try:
        import yaml
    finally:
        re.compile = compile_
    return yaml


yaml = _import_yaml()
from yaml.constructor import SafeConstructor  # noqa: E402

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader  # type: ignore[misc]

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_TAB_INDENT = re.compile(r"^( *)\t", re.MULTILINE)
_CONSTRUCTOR = SafeConstructor()

Path_ = tuple[Any, ...]


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as the user should read it: relative to the current directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


@dataclass
class YamlDoc:
    """A loaded document: the data and the 1-based line of every key path in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: Path_, reason: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), reason)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.count = 0
        self.active: set[int] = set()

    def fail(self, node: yaml.Node, path: Path_, reason: str) -> MevopsError:
        return MevopsError(Problem(self.file, node.start_mark.line + 1, dotted(path) or "yaml", reason))

    def build(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, path, f"document expands to more than {MAX_NODES} values (alias bomb?)")
        self.lines.setdefault(path, line if line is not None else node.start_mark.line + 1)
        if id(node) in self.active:
            raise self.fail(node, path, "recursive alias")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _T + "seq":
                    raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                if node.tag != _T + "map":
                    raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
                return self.mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise self.fail(node, path, "unsupported YAML node")  # pragma: no cover

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
        if node.tag == _T + "timestamp":
            return node.value  # dates stay text; the models decide what they mean
        try:
            return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
        except (ValueError, yaml.YAMLError) as exc:
            raise self.fail(node, path, f"bad {node.tag.rsplit(':', 1)[-1]} value {node.value!r}: {exc}") from None

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _T + "merge":
                merged.update(self.merge_source(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail(key_node, path, "keys must be plain scalars")
            key = key_node.value
            if key in out:
                first = self.lines.get(path + (key,))
                raise self.fail(key_node, path + (key,), f"duplicate key (first defined on line {first})")
            out[key] = self.build(value_node, path + (key,), key_node.start_mark.line + 1)
        for key, value in merged.items():
            out.setdefault(key, value)
        return out

    def merge_source(self, node: yaml.Node, path: Path_) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[str, Any] = {}
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                raise self.fail(src, path, "merge key '<<' needs a mapping or a list of mappings")
            for key, value in self.build(src, path).items():
                result.setdefault(key, value)
        return result


def parse_yaml(text: str | bytes, file: str, *, require_mapping: bool = True, allow_empty: bool = False) -> YamlDoc:
    """Parse one YAML document from text; raise MevopsError (exit 2) on anything unsafe."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise MevopsError(Problem(file, None, "", f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB"))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise MevopsError(Problem(file, line, "yaml", "not UTF-8 text (binary file?)")) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise MevopsError(Problem(file, line, "yaml", "NUL byte: this is a binary file, not YAML"))
    text = text.removeprefix("\ufeff")
    tab = _TAB_INDENT.search(text)
    if tab:
        line = text[: tab.start()].count("\n") + 1
        raise MevopsError(Problem(file, line, "yaml", "tab used for indentation; YAML needs spaces"))
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise MevopsError(Problem(file, line, "yaml", reason)) from None
    except yaml.YAMLError as exc:
        raise MevopsError(Problem(file, None, "yaml", str(exc).splitlines()[0])) from None
    if len(nodes) > 1:
        raise MevopsError(Problem(file, nodes[1].start_mark.line + 1, "yaml", "several YAML documents in one file; expected one"))
    if not nodes or (isinstance(nodes[0], yaml.ScalarNode) and nodes[0].tag == _T + "null"):
        if allow_empty:
            return YamlDoc(file, {} if require_mapping else None, {(): 1})
        raise MevopsError(Problem(file, 1, "", "file is empty; expected a mapping"))
    builder = _Builder(file)
    data = builder.build(nodes[0], ())
    if require_mapping and not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} scalar"
        raise MevopsError(Problem(file, nodes[0].start_mark.line + 1, "", f"top level is {kind}; expected a mapping"))
    return YamlDoc(file, data, builder.lines)


def load_yaml(path: str | os.PathLike[str], *, require_mapping: bool = True, allow_empty: bool = False) -> YamlDoc:
    """Load a YAML file safely (see module doc)."""
    shown = display_path(path)
    p = Path(path)
    try:
        if p.is_dir():
            raise MevopsError(Problem(shown, None, "", "is a directory, expected a YAML file"))
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise MevopsError(Problem(shown, None, "", f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB"))
        raw = p.read_bytes()
    except FileNotFoundError:
        raise MevopsError(Problem(shown, None, "", "file not found")) from None
    except PermissionError:
        raise MevopsError(Problem(shown, None, "", "permission denied")) from None
    except IsADirectoryError:
        raise MevopsError(Problem(shown, None, "", "is a directory, expected a YAML file")) from None
    return parse_yaml(raw, shown, require_mapping=require_mapping, allow_empty=allow_empty)
