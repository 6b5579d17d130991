"""Find the workspace (like git finds a repo) and read its files into the model.

Order: ``-w/--workspace DIR``, then ``MEVOPS_WORKSPACE``, then walk up from the current
directory to the first ``mevops.yml``. The target root (the standardized tree and node data)
comes from ``--root``, then ``MEVOPS_ROOT``, then ``mevops.yml``'s ``target_root``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.errors import MevopsError, Problem

if TYPE_CHECKING:
    from mevops.config.layering import Layered
    from mevops.config.marker import WorkspaceMarker
    from mevops.config.models import EffectiveConfig
    from mevops.config.yamlsafe import YamlDoc

MARKER = "mevops.yml"


def find_workspace(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Path:
    """The workspace directory, or a MevopsError saying how to get one."""
    chosen = explicit or os.environ.get("MEVOPS_WORKSPACE")
    if chosen:
        path = Path(chosen).expanduser()
        source = "--workspace" if explicit else "MEVOPS_WORKSPACE"
        if not (path / MARKER).is_file():
            raise MevopsError(Problem(str(path), None, source, f"not a mevops workspace (no {MARKER}); create one with `mevops init {path}`"))
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / MARKER).is_file():
            return candidate
    raise MevopsError(Problem(str(here), None, "", f"not inside a mevops workspace (no {MARKER} here or above); "
                              "create one with `mevops init DIR`, or pass -w DIR / set MEVOPS_WORKSPACE"))


@dataclass
class Workspace:
    root: Path
    doc: "YamlDoc"

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None) -> "Workspace":
        from mevops.config.yamlsafe import load_yaml

        root = find_workspace(explicit)
        return cls(root, load_yaml(root / MARKER))

    @cached_property
    def marker(self) -> "WorkspaceMarker":
        """The validated marker. Validation is deferred so that a no-change render stays fast."""
        from pydantic import ValidationError

        from mevops.config.marker import WorkspaceMarker
        from mevops.config.problems import validation_problems

        try:
            return WorkspaceMarker.model_validate(self.doc.data)
        except ValidationError as exc:
            raise MevopsError(validation_problems(exc, lambda p: (self.doc.file, self.doc.line_of(p)))) from None

    def _setting(self, key: str) -> str:
        value = self.doc.data.get(key)
        return value if isinstance(value, str) and value.strip() else getattr(self.marker, key)

    # -- names and places ------------------------------------------------------------------
    def environments(self) -> list[str]:
        base = self.root / "environments"
        return sorted(p.parent.name for p in base.glob("*/overrides.yml")) if base.is_dir() else []

    def environment(self, explicit: str | None = None) -> str:
        """``--env``, then ``MEVOPS_ENV``, then ``mevops.yml``'s default; must exist."""
        env = explicit or os.environ.get("MEVOPS_ENV") or self._setting("default_environment")
        known = self.environments()
        if env not in known:
            source = "--env" if explicit else ("MEVOPS_ENV" if os.environ.get("MEVOPS_ENV") else f"{MARKER} default_environment")
            raise MevopsError(Problem(source, None, "environment", f"unknown environment {env!r} (have: {', '.join(known) or 'none'})"))
        return env

    def target_root(self, explicit: str | os.PathLike[str] | None = None) -> Path:
        return resolve_root(explicit, self)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def strategy_files(self) -> list[Path]:
        base = self.root / "mev" / "strategies"
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))

    # -- reading the model -------------------------------------------------------------------
    def layered_config(self, env: str, environ: dict[str, str] | None = None) -> "Layered":
        """Merge the config files, the environment's overrides and MEVOPS_* variables."""
        from mevops.config.layering import MOUNTS, Layered, Origin, apply_env
        from mevops.config.yamlsafe import load_yaml

        layered = Layered()
        problems: list[Problem] = []
        for relative, mount in MOUNTS:
            try:
                layered.apply_doc(load_yaml(self.root / relative), mount)
            except MevopsError as exc:
                problems.extend(exc.problems)
        overrides = self.root / "environments" / env / "overrides.yml"
        try:
            doc = load_yaml(overrides, allow_empty=True)
            explicit_env = doc.data.get("global", {}).get("environment") if isinstance(doc.data.get("global"), dict) else None
            if explicit_env is not None and explicit_env != env:
                problems.append(doc.problem(("global", "environment"), f"is {explicit_env!r} in the overrides of environment {env!r}"))
            layered.apply_doc(doc)
        except MevopsError as exc:
            problems.extend(exc.problems)
        try:
            apply_env(layered, environ)
        except MevopsError as exc:
            problems.extend(exc.problems)
        if problems:
            raise MevopsError(problems)
        # The selected environment is the effective one, whatever the base file says.
        layered.apply({"global": {"environment": env}}, lambda rel: Origin(f"selected environment ({env})"))
        return layered

    def config(self, env: str | None = None) -> "EffectiveConfig":
        from mevops.config.validate import effective_config

        return effective_config(self, self.environment(env))[0]


def resolve_root(explicit: str | os.PathLike[str] | None, workspace: Workspace | None) -> Path:
    """``--root``, then ``MEVOPS_ROOT``, then the workspace's ``target_root`` (relative to the workspace)."""
    chosen = explicit or os.environ.get("MEVOPS_ROOT")
    if chosen:
        return Path(chosen).expanduser().absolute()
    if workspace is None:
        raise MevopsError(Problem("--root", None, "", "no target root: pass --root DIR, set MEVOPS_ROOT, or run inside a workspace"))
    root = Path(workspace._setting("target_root")).expanduser()
    return root if root.is_absolute() else (workspace.root / root).absolute()
