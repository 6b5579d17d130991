"""The stage store: strategy files under ``mev/strategies/<stage>/<type>/<name>.yml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.config.yamlsafe import YamlDoc, display_path, load_yaml
from mevops.errors import MevopsError, Problem
from mevops.strategies import STAGES

if TYPE_CHECKING:
    from mevops.strategies.schema import StrategyFile
    from mevops.workspace import Workspace

@dataclass
class StrategyRecord:
    path: Path
    stage: str
    doc: YamlDoc
    spec: "StrategyFile"  # or its snapshot (``mevops.render.inputs``): this module imports no pydantic

    @property
    def name(self) -> str:
        return self.spec.strategy.name

def load_strategy(path: Path) -> tuple[YamlDoc, "StrategyFile"]:
    from pydantic import ValidationError

    from mevops.config.problems import validation_problems
    from mevops.strategies.schema import StrategyFile

    doc = load_yaml(path)
    try:
        return doc, StrategyFile.model_validate(doc.data)
    except ValidationError as exc:
        raise MevopsError(validation_problems(exc, lambda p: (doc.file, doc.line_of(p)))) from None

def place_problems(path: Path, base: Path, doc: YamlDoc, spec: "StrategyFile") -> list[Problem]:
    """The file must sit at ``<stage>/<type>/<name>.yml``, matching its own header."""
    rel = path.relative_to(base).parts
    shown = display_path(path)
    if len(rel) != 3:
        return [Problem(shown, None, "", "strategy files live at mev/strategies/<stage>/<type>/<name>.yml")]
    stage, kind, filename = rel
    problems = []
    if stage not in STAGES:
        problems.append(Problem(shown, None, "", f"unknown stage directory {stage!r} (stages: {', '.join(STAGES)})"))
    if kind != spec.strategy.type:
        problems.append(doc.problem(("strategy", "type"), f"is {spec.strategy.type!r} but the file is in the {kind!r} directory"))
    if Path(filename).stem != spec.strategy.name:
        problems.append(doc.problem(("strategy", "name"), f"is {spec.strategy.name!r} but the file is named {filename!r}"))
    if Path(filename).suffix != ".yml":
        problems.append(Problem(shown, None, "", "strategy files end in .yml"))
    return problems

def load_strategies(ws: "Workspace") -> tuple[list[StrategyRecord], list[Problem]]:
    """Every strategy file, validated alone; problems of the broken ones, never a partial record."""
    base = ws.path("mev/strategies")
    records: list[StrategyRecord] = []
    problems: list[Problem] = []
    seen: dict[str, StrategyRecord] = {}
    for path in ws.strategy_files():
        try:
            doc, spec = load_strategy(path)
        except MevopsError as exc:
            problems.extend(exc.problems)
            continue
        placed = place_problems(path, base, doc, spec)
        problems.extend(placed)
        if placed:
            continue
        record = StrategyRecord(path, path.relative_to(base).parts[0], doc, spec)
        if record.name in seen:
            problems.append(doc.problem(("strategy", "name"), f"{record.name!r} is also defined in {display_path(seen[record.name].path)}"))
            continue
        seen[record.name] = record
        records.append(record)
    return records, problems

