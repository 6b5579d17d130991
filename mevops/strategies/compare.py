"""The deployed copy of a strategy, to diff the workspace file against: the text the running engine
loaded, or else the last committed copy (``git show HEAD:<path>``)."""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.errors import MevopsError, Problem

if TYPE_CHECKING:
    from mevops.strategies.engine_api import EngineApi

STRATEGIES = "mev/strategies"


@dataclass
class Deployed:
    against: str          # "engine" or "git"
    label: str            # the other side's name in the diff header
    text: str | None      # None: no deployed copy (everything is new)
    note: str = ""


def from_engine(api: "EngineApi", name: str) -> Deployed | None:
    """The text the running engine loaded; None when no engine answers or it has not loaded ``name``."""
    body = api.strategy(name)
    if not body or not body.get("loaded") or body.get("text") is None:
        return None
    return Deployed("engine", f"engine:{name} ({api.url})", body["text"])


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        raise MevopsError(Problem(str(root), None, "git", "git is not installed")) from None


def from_git(root: Path, name: str, current: str) -> Deployed | None:
    """The copy committed at HEAD (at ``current``, or wherever ``name`` was then); None when ``root``
    is not in a git work tree."""
    if _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        return None
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        return Deployed("git", "HEAD (no commits yet)", None, "the repository has no commits yet")
    listed = _git(root, "ls-tree", "-r", "--name-only", "HEAD", "--", STRATEGIES).stdout.splitlines()
    candidates = [p for p in listed if len(Path(p).parts) == 5 and Path(p).stem == name and Path(p).suffix in (".yml", ".yaml")]
    if not candidates:
        return Deployed("git", f"HEAD:{current}", None, f"{name!r} is not committed at HEAD")
    path = current if current in candidates else candidates[0]
    shown = _git(root, "show", f"HEAD:./{path}")
    if shown.returncode != 0:
        raise MevopsError(Problem(str(root), None, "git", shown.stderr.strip() or f"git show HEAD:{path} failed"))
    note = "" if path == current else f"committed at {path}"
    return Deployed("git", f"HEAD:{path}", shown.stdout, note)


def unified(deployed: Deployed, text: str, label: str) -> str:
    old = (deployed.text or "").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, text.splitlines(keepends=True),
                                        deployed.label if deployed.text is not None else "/dev/null", label))
