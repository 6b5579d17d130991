"""Turn pydantic validation errors into located problems (file:line: key: reason)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from mevops.config.yamlsafe import dotted
from mevops.errors import Problem
from mevops.output import is_secret_key

Locate = Callable[[tuple[Any, ...]], tuple[str, int | None]]


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if kind == "literal_error":
        got = error.get("input")
        return f"{msg}, got {got!r}" if not isinstance(got, (dict, list)) else msg
    return msg


def validation_problems(exc: ValidationError, locate: Locate, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """One problem per pydantic error, placed with ``locate(path) -> (file, line)``."""
    problems = []
    seen = set()
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and (part.startswith("function-") or "[" in part)))
        path = prefix + loc
        file, line = locate(path)
        reason = _reason(error)
        if any(is_secret_key(part) for part in path) and error["type"] != "extra_forbidden":
            reason = "invalid value (not shown: it may be a secret)"
        problem = Problem(file, line, dotted(path), reason)
        if problem not in seen:
            seen.add(problem)
            problems.append(problem)
    return problems
