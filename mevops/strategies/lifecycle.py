"""Moving strategies through their stages: validate a file as if deployed, plan a move, apply it.

One file, one place: a strategy lives at ``mev/strategies/<stage>/<type>/<name>.yml`` and nowhere
else in the workspace. A move is checked against the target environment's effective limits, the
workspace as the engine would load it afterwards (``max_concurrent_strategies`` counted on the
result) and, into ``active``, the promotion policy; then written (target first, then the other
copies removed) and recorded in the audit trail.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.config.models import STAGES
from mevops.errors import MevopsError, Problem
from mevops.strategies import history

if TYPE_CHECKING:
    from mevops.catalog.models import Chain
    from mevops.config.models import EffectiveConfig
    from mevops.config.yamlsafe import YamlDoc
    from mevops.strategies.schema import StrategyFile
    from mevops.strategies.store import StrategyRecord
    from mevops.workspace import Workspace

STRATEGIES = "mev/strategies"
SUFFIXES = (".yml", ".yaml")
DEPLOY_STAGES = ("testing", "active")


def _inside(path: Path, base: Path) -> bool:
    return path.resolve().is_relative_to(base.resolve())


def strategies_dir(ws: "Workspace") -> Path:
    base = ws.path(STRATEGIES)
    if base.exists() and not _inside(base, ws.root):
        raise MevopsError(Problem(STRATEGIES, None, "", "points outside the workspace; refusing to write there"))
    return base


def stage_of(path: Path, base: Path) -> str | None:
    """The stage directory a file sits in, or None when it is not at <stage>/<type>/<file>."""
    if not _inside(path, base):
        return None
    parts = path.resolve().relative_to(base.resolve()).parts
    return parts[0] if len(parts) == 3 and parts[0] in STAGES else None


def load_file(path: Path) -> tuple["YamlDoc", "StrategyFile", bytes]:
    """Schema-validate a strategy file anywhere; its exact bytes come along (comments kept)."""
    from mevops.config.yamlsafe import display_path
    from mevops.strategies.store import load_strategy

    if path.suffix not in SUFFIXES:
        raise MevopsError(Problem(display_path(path), None, "", "strategy files end in .yml (or .yaml)"))
    doc, spec = load_strategy(path)
    return doc, spec, path.read_bytes()


def file_problems(path: Path, ws: "Workspace", cfg: "EffectiveConfig", catalog: dict[str, "Chain"],
                  stage: str = "testing") -> list[Problem]:
    """Everything wrong with one file as if it were deployed to ``stage`` (placement too when it
    already sits in the workspace's stage tree)."""
    from mevops.strategies.checks import check_strategy
    from mevops.strategies.store import StrategyRecord, place_problems

    try:
        doc, spec, _ = load_file(path)
    except MevopsError as exc:
        return exc.problems
    base = ws.path(STRATEGIES)
    problems = place_problems(path.resolve(), base.resolve(), doc, spec) if _inside(path, base) else []
    return problems + check_strategy(StrategyRecord(path, stage, doc, spec), cfg, catalog)


def copies(ws: "Workspace", name: str, records: list["StrategyRecord"] | None = None) -> list[Path]:
    """Every file of strategy ``name`` in the workspace: by file name and by its header."""
    found = {p.resolve() for p in ws.strategy_files() if p.stem == name}
    found |= {r.path.resolve() for r in records or () if r.name == name}
    return sorted(found)


def find(ws: "Workspace", name: str) -> Path:
    """The one workspace file of strategy ``name`` (a refused name or none: MevopsError)."""
    from mevops.config.types import check_name

    try:
        check_name(name)
    except ValueError as exc:
        raise MevopsError(Problem("NAME", None, "", str(exc))) from None
    found = copies(ws, name)
    if not found:
        raise MevopsError(Problem(STRATEGIES, None, "", f"no strategy {name!r} in the workspace"))
    if len(found) > 1:
        shown = ", ".join(str(p.relative_to(ws.root.resolve())) for p in found)
        raise MevopsError(Problem(STRATEGIES, None, "", f"strategy {name!r} has several files ({shown}): keep one"))
    return found[0]


@dataclass
class Plan:
    action: str
    name: str
    kind: str
    env: str
    source: Path
    target: Path
    from_stage: str | None
    to_stage: str
    data: bytes
    old: Path | None = None               # the workspace copy the move replaces: the diff's base
    old_data: bytes = b""
    remove: list[Path] = field(default_factory=list)
    reason: str = ""
    problems: list[Problem] = field(default_factory=list)
    config: "EffectiveConfig | None" = None

    @property
    def moves(self) -> bool:
        return self.source.resolve() != self.target.resolve()

    @property
    def changes_files(self) -> bool:
        return self.moves or bool(self.remove) or self.old_data != self.data

    def diff(self, root: Path) -> str:
        old = self.old_data.decode(errors="replace").splitlines(keepends=True)
        new = self.data.decode(errors="replace").splitlines(keepends=True)
        before = "a/" + shown(self.old, root) if self.old is not None else "/dev/null"
        return "".join(difflib.unified_diff(old, new, before, "b/" + shown(self.target, root)))


def shown(path: Path, root: Path) -> str:
    """A path relative to the workspace when inside it, else absolute."""
    return str(path.resolve().relative_to(root.resolve())) if _inside(path, root) else str(path)


def plan_move(ws: "Workspace", env: str, source: Path, to: str, *, action: str = "deploy", reason: str = "",
              environ: dict[str, str] | None = None) -> Plan:
    """Everything a move of ``source`` into ``to`` would do, and every reason it may not (``plan.problems``)."""
    from mevops.config.validate import validate_workspace
    from mevops.config.yamlsafe import display_path
    from mevops.strategies.checks import check_strategy
    from mevops.strategies.store import StrategyRecord

    source = source.absolute()
    doc, spec, data = load_file(source)
    base = strategies_dir(ws)
    name, kind = spec.strategy.name, spec.strategy.type
    target = base / to / kind / f"{name}.yml"
    if not _inside(target, base):
        raise MevopsError(doc.problem(("strategy", "name"), "the stage directory points outside mev/strategies"))
    report = validate_workspace(ws, env, environ)
    found = [p for p in copies(ws, name, report.strategies) if p != source.resolve()]
    from_stage = stage_of(source, base)
    old = source if from_stage else _replaced(found, target, base)
    from_stage = stage_of(old, base) if old is not None else None
    plan = Plan(action, name, kind, env, source, target, from_stage, to, data, old,
                old.read_bytes() if old is not None else b"", [p for p in found if p != target.resolve()], reason)
    if report.config is None:
        plan.problems = report.problems
        return plan
    cfg = plan.config = report.config
    record = StrategyRecord(target, to, doc, spec)
    plan.problems += check_strategy(record, cfg, report.catalog)
    affected = {display_path(p) for p in (source, *found)}
    plan.problems += [p for p in report.problems
                      if p.file not in affected and p.key != "mev.max_concurrent_strategies"]
    if to == "active" and spec.strategy.enabled:
        plan.problems += _concurrency(ws, env, environ, name, report.strategies, cfg)
    if to == "active" and from_stage == "testing" and plan.old_data != data:
        plan.problems.append(doc.problem(("strategy", "name"), f"differs from the copy in testing "
                                         f"({shown(old, ws.root)}), which earned the paper-trading record: "
                                         "deploy it --to testing first"))
    if to == "active" and (from_stage != "active" or action == "promote") and not plan.problems:
        from mevops.strategies.promotion import promotion_problems

        try:
            plan.problems += promotion_problems(record, from_stage, cfg, ws.root)
        except MevopsError as exc:
            plan.problems += exc.problems
    return plan


def _replaced(found: list[Path], target: Path, base: Path) -> Path | None:
    """The workspace copy a file from elsewhere replaces: the one at the target, else the most deployed."""
    rank = ("active", "testing", "research", "archived", None)
    return min(found, key=lambda p: (p != target.resolve(), rank.index(stage_of(p, base)))) if found else None


def _concurrency(ws: "Workspace", env: str, environ: dict[str, str] | None, name: str,
                 records: list["StrategyRecord"], cfg: "EffectiveConfig") -> list[Problem]:
    """max_concurrent_strategies, counted on the workspace as it would be with ``name`` active and enabled."""
    from mevops.config.validate import effective_config

    others = sorted(r.name for r in records if r.stage == "active" and r.spec.strategy.enabled and r.name != name)
    limit = cfg.mev.max_concurrent_strategies
    if len(others) + 1 <= limit:
        return []
    _, layered = effective_config(ws, env, environ)
    return [layered.problem(("mev", "max_concurrent_strategies"), f"{name!r} would be active strategy {len(others) + 1} "
                            f"of at most {limit} in {env} (active: {', '.join(others)})")]


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(directory: Path, base: Path) -> None:
    """Remove an emptied <type> directory (never a stage directory)."""
    if directory.parent.parent.resolve() == base.resolve() and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()


def record(ws: "Workspace", plan: Plan, action: str, sha: str, entries: list[history.Entry], *,
           always: bool = False) -> history.Entry | None:
    """Append an audit entry unless nothing happened and the trail (``entries``, read before any
    change) already ends with this very state (idempotent)."""
    if not always and not plan.changes_files and entries and entries[-1].to_stage == plan.to_stage and entries[-1].sha256 == sha:
        return None
    root = ws.root.resolve()
    source = plan.source.resolve()
    entry = history.Entry(history.now(), history.operator(), action, plan.name, plan.from_stage, plan.to_stage, sha,
                          plan.reason, str(plan.target.resolve().relative_to(root)),
                          str(source.relative_to(root)) if source.is_relative_to(root) else str(source), plan.env)
    history.append(ws.root, entry)
    return entry


def apply_move(ws: "Workspace", plan: Plan) -> history.Entry | None:
    """Write the target, remove the other copies, record the move. Idempotent."""
    if plan.problems:
        raise MevopsError(plan.problems)
    entries = history.read(ws.root, plan.name)   # a damaged trail stops us before anything moves
    base = ws.path(STRATEGIES)
    if plan.moves:
        if _inside(plan.source, ws.root) and not plan.source.is_symlink():
            plan.target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(plan.source, plan.target)
        else:
            _write_atomic(plan.target, plan.data)
            plan.source.unlink()
        _prune(plan.source.parent, base)
    for path in plan.remove:
        path.unlink(missing_ok=True)
        _prune(path.parent, base)
    return record(ws, plan, plan.action, history.sha256(plan.data), entries)


# -- disable: one line edited, comments kept ---------------------------------------------------------
_ENABLED = re.compile(r"""(\benabled\s*:\s*)(?:true|True|TRUE|yes|Yes|YES|on|On|ON|"true"|'true')(?=\s*(?:[,}#]|$))""")


def disabled(path: Path) -> tuple[bytes, bytes, int | None]:
    """(old bytes, new bytes, edited line) with ``strategy.enabled`` set to false by editing its one
    line; the bytes are equal (and the line None) when the file already says false."""
    from mevops.config.yamlsafe import parse_yaml

    doc, spec, data = load_file(path)
    if not spec.strategy.enabled:
        return data, data, None
    line = doc.lines.get(("strategy", "enabled"))
    lines = data.decode().splitlines(keepends=True)
    edited, count = _ENABLED.subn(r"\1false", lines[line - 1], count=1) if line else ("", 0)
    refuse = doc.problem(("strategy", "enabled"), "cannot set this to false with a one-line edit; edit the file by hand")
    if count != 1:
        raise MevopsError(refuse)
    lines[line - 1] = edited
    new = "".join(lines).encode()
    expected = {**doc.data, "strategy": {**doc.data["strategy"], "enabled": False}}
    if parse_yaml(new, doc.file).data != expected:
        raise MevopsError(refuse)
    return data, new, line


def apply_disable(ws: "Workspace", path: Path, new: bytes, env: str, reason: str,
                  engine_disabled: bool = False) -> history.Entry | None:
    """Write the edited file; audit it (and a disable in the engine, even when the file said false already)."""
    stage = stage_of(path, ws.path(STRATEGIES)) or ""
    plan = Plan("disable", path.stem, path.parent.name, env, path, path, stage, stage, new, path, path.read_bytes(),
                reason=reason)
    entries = history.read(ws.root, plan.name)
    if plan.changes_files:
        _write_atomic(path, new)
    return record(ws, plan, "disable", history.sha256(new), entries, always=engine_disabled)
