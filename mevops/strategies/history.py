"""The strategies' audit trail: ``mev/strategies/HISTORY.jsonl``, one JSON object a line, appended.

Each entry says who moved or changed which strategy, when, why, from which stage to which, and
the SHA-256 of the file as it was written. The strategy loader reads only ``*.yml``/``*.yaml``,
so the trail lives beside the files it describes and goes to git with them.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

HISTORY = "mev/strategies/HISTORY.jsonl"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def operator() -> str:
    """The OS user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        return f"uid:{os.getuid()}"


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    action: str
    strategy: str
    from_stage: str | None
    to_stage: str
    sha256: str
    reason: str = ""
    path: str = ""
    source: str = ""
    env: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat().replace("+00:00", "Z"), "who": self.who, "action": self.action,
                "strategy": self.strategy, "from": self.from_stage, "to": self.to_stage, "path": self.path,
                "source": self.source, "sha256": self.sha256, "reason": self.reason, "env": self.env}


def now() -> datetime:
    return datetime.now(UTC)


def append(root: Path, entry: Entry) -> None:
    """Append one line and sync it: the trail is written before the command reports success."""
    path = root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry.as_json(), sort_keys=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(root: Path, strategy: str | None = None) -> list[Entry]:
    """Entries in file order (oldest first), those of ``strategy`` only when given."""
    path = root / HISTORY
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = Entry(datetime.fromisoformat(raw["at"].replace("Z", "+00:00")).astimezone(UTC), raw["who"],
                          raw["action"], raw["strategy"], raw.get("from"), raw["to"], raw.get("sha256", ""),
                          raw.get("reason", ""), raw.get("path", ""), raw.get("source", ""), raw.get("env", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MevopsError(Problem(HISTORY, number, "", f"not an audit entry ({exc})")) from None
        if strategy is None or entry.strategy == strategy:
            entries.append(entry)
    return entries


def entered(entries: list[Entry], stage: str) -> datetime | None:
    """When the strategy last entered ``stage`` and stayed there (redeploys within the stage keep
    the clock running); None when the trail does not show it there now."""
    since: datetime | None = None
    current: str | None = None
    for entry in entries:
        if entry.to_stage != stage:
            since = None
        elif current != stage or since is None:
            since = entry.at
        current = entry.to_stage
    return since if current == stage else None
