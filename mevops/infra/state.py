"""Where ``mevops infra`` finds the rendered tree and keeps its state (in the workspace, git-ignored)."""

from __future__ import annotations

import re
from pathlib import Path

from mevops.errors import MevopsError, Problem

STATE_DIR = "infrastructure/state"
TERRAFORM_DIR = "infrastructure/deployment/terraform"
ANSIBLE_DIR = "infrastructure/deployment/ansible"
KUBERNETES_DIR = "infrastructure/deployment/kubernetes"
_ENV_DEFAULT = re.compile(r'variable "environment" \{[^}]*?default\s*=\s*"([^"]+)"', re.DOTALL)


def state_dir(workspace: Path, env: str, *parts: str) -> Path:
    """``<workspace>/infrastructure/state/<env>/<parts>``, created, with the whole state tree git-ignored."""
    base = workspace / STATE_DIR
    path = base.joinpath(env, *parts)
    path.mkdir(parents=True, exist_ok=True)
    ignore = base / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# mevops infra: Terraform state, plans and Ansible artifacts (may hold secrets)\n*\n")
    return path


def rendered_dir(root: Path, rel: str, env: str, what: str) -> Path:
    """A directory of the rendered tree, or exit 2 saying how to render it."""
    path = root / rel
    if not path.is_dir():
        raise MevopsError(Problem(str(path), None, what, f"not rendered; run `mevops render --env {env} --root {root}`"))
    return path


def check_rendered_env(variables_tf: Path, env: str, root: Path) -> None:
    """The Terraform tree under ``root`` must have been rendered for ``env`` (its environment default)."""
    match = _ENV_DEFAULT.search(variables_tf.read_text()) if variables_tf.is_file() else None
    if match is None:
        raise MevopsError(Problem(str(variables_tf), None, "environment", f"not a rendered mevops target; run "
                                  f"`mevops render --env {env} --root {root}`"))
    if match[1] != env:
        raise MevopsError(Problem(str(variables_tf), None, "environment", f"rendered for {match[1]}, not {env}; run "
                                  f"`mevops render --env {env} --root {root}` (or pass --env {match[1]})"))
