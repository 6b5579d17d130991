"""Errors a user can cause. The CLI prints each problem as one line and exits 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as we can."""

    file: str
    line: int | None
    key: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.reason}" if self.key else f"{where}: {self.reason}"


class MevopsError(Exception):
    """A user error: bad input, a missing workspace, a refused path. Never a bug."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str = "", line: int | None = None, key: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(file or "mevops", line, key, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CheckFailed(Exception):
    """A check ran and found something wrong (drift, unhealthy): exit 1."""

    exit_code = 1
