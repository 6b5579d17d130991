"""The chain catalog: one YAML per chain under the workspace's ``chains/`` (data, not code)."""

from __future__ import annotations

from pathlib import Path

from mevops.errors import MevopsError, Problem


def load_chain(path: Path) -> "Chain":
    from pydantic import ValidationError

    from mevops.catalog.models import Chain
    from mevops.config.problems import validation_problems
    from mevops.config.yamlsafe import load_yaml

    doc = load_yaml(path)
    try:
        chain = Chain.model_validate(doc.data)
    except ValidationError as exc:
        raise MevopsError(validation_problems(exc, lambda p: (doc.file, doc.line_of(p)))) from None
    if chain.name != path.stem:
        raise MevopsError(doc.problem(("name",), f"must match the file name {path.stem!r}"))
    return chain


def load_catalog(directory: Path) -> dict[str, "Chain"]:
    """All chains in ``directory`` (``<name>.yml``), validated; every problem reported at once."""
    chains: dict[str, Chain] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yml")):
        try:
            chains[path.stem] = load_chain(path)
        except MevopsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise MevopsError(problems)
    return chains


if False:  # pragma: no cover - typing only
    from mevops.catalog.models import Chain
