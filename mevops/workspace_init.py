"""``mevops init``: copy the reference workspace, enable the chosen chains, create the key store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mevops.errors import MevopsError, Problem
from mevops.reference import REFERENCE_DIRS, reference_root
from mevops.workspace import MARKER

KEY_PATH = ".secrets/master.key"
KEY_STORE = "mev/config/api-keys.enc"
GITIGNORE = """\
# mevops: secrets and local state never go to git
.secrets/
*.key
mev/data/
"""


@dataclass
class InitResult:
    root: Path
    enabled: list[str]
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _marker(name: str, environment: str, target_root: str) -> str:
    return (
        "# mevops workspace marker: commands find the workspace by walking up to this file.\n"
        "schema_version: 1\n"
        f"name: {name}\n"
        f"default_environment: {environment}\n"
        "# Where the standardized tree and node data live (--root / MEVOPS_ROOT override).\n"
        f"target_root: {target_root}\n"
    )


def _safe_name(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", directory.name.lower()).strip("-_")[:63]
    return name or "mevops"


def enable_chains(text: str, selected: set[str]) -> str:
    """Set ``chains.<name>.enabled`` in the reference config/global.yml, keeping its comments."""
    out, section, chain = [], None, None
    for line in text.splitlines(keepends=True):
        if re.match(r"^\S", line):
            section = line.split(":", 1)[0]
            chain = None
        elif section == "chains" and (m := re.match(r"^  ([a-z0-9_-]+):\s*$", line)):
            chain = m[1]
        elif section == "chains" and chain and (m := re.match(r"^(    enabled:\s*)(true|false)(.*)$", line, re.DOTALL)):
            line = f"{m[1]}{'true' if chain in selected else 'false'}{m[3]}"
        out.append(line)
    return "".join(out)


def plan_files(ref: Path, selected: set[str], marker: str) -> dict[str, bytes]:
    """Relative path → content of every file a new workspace gets (the key store aside)."""
    from mevops.config.yamlsafe import load_yaml

    files: dict[str, bytes] = {MARKER: marker.encode(), ".gitignore": GITIGNORE.encode()}
    for top in REFERENCE_DIRS:
        for path in sorted((ref / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ref).as_posix()
            data = path.read_bytes()
            if rel == "config/global.yml":
                data = enable_chains(data.decode(), selected).encode()
            elif rel.startswith("mev/strategies/") and path.suffix == ".yml":
                chains = load_yaml(path).data.get("parameters", {}).get("chains", [])
                if not set(chains) <= selected:
                    continue  # a sample for chains this workspace does not run
            files[rel] = data
    for stage in ("research", "testing", "active", "archived"):
        if not any(rel.startswith(f"mev/strategies/{stage}/") for rel in files):
            files[f"mev/strategies/{stage}/.gitkeep"] = b""
    return files


def init_workspace(directory: Path, chains: list[str] | None, target_root: str | None, environment: str, *, dry_run: bool = False) -> InitResult:
    ref = reference_root()
    known = sorted(p.stem for p in (ref / "chains").glob("*.yml"))
    envs = sorted(p.name for p in (ref / "environments").iterdir() if p.is_dir())
    problems = []
    if directory.exists() and not directory.is_dir():
        problems.append(Problem(str(directory), None, "", "exists and is not a directory"))
    selected = known if chains is None else chains
    for name in selected:
        if name not in known:
            problems.append(Problem("--chains", None, name, f"unknown chain (known: {', '.join(known)})"))
    if not selected:
        problems.append(Problem("--chains", None, "", "choose at least one chain"))
    if environment not in envs:
        problems.append(Problem("--default-env", None, environment, f"unknown environment (known: {', '.join(envs)})"))
    if target_root is not None and (not target_root.strip() or "\n" in target_root or ":" in target_root):
        problems.append(Problem("--root", None, "", f"{target_root!r} is not a usable directory path"))
    if problems:
        raise MevopsError(problems)

    root = directory.expanduser().absolute()
    marker = _marker(_safe_name(root), environment, target_root or "/data/blockchain")
    files = plan_files(ref, set(selected), marker)
    result = InitResult(root, [c for c in known if c in selected])
    for rel in sorted(files):
        (result.kept if (root / rel).exists() else result.written).append(rel)
    for rel in (KEY_PATH, KEY_STORE):
        (result.kept if (root / rel).exists() else result.written).append(rel)
    if dry_run:
        return result
    try:
        for rel in result.written:
            if rel in files:
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(files[rel])
        _create_secrets(root)
    except OSError as exc:
        raise MevopsError(Problem(str(root), None, "", f"cannot write the workspace: {exc.strerror or exc}")) from None
    return result


def _create_secrets(root: Path) -> None:
    from mevops.secrets import create_key, write_store

    key = root / KEY_PATH
    create_key(key)
    store = root / KEY_STORE
    if not store.exists():
        write_store(store, key, {})
