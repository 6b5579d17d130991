"""How migrate shows things to people: rich tables and a progress bar with bytes and ETA.
(Secrets never get here: entries marked secret show their kind and path only.)"""

from __future__ import annotations

from typing import Any

from mevops.migrate.apply import Progress
from mevops.migrate.plan import human_bytes


def console(stderr: bool = False):  # noqa: ANN201
    """Rich console; wide when output goes to a file or pipe (tables wrap badly at 80 columns)."""
    from rich.console import Console

    probe = Console(stderr=stderr)
    return Console(stderr=stderr, highlight=False, width=None if probe.is_terminal else 200)

ROLE_STYLE = {"chain-data": "green", "deployment": "cyan", "config": "cyan", "keys": "magenta", "logs": "dim",
              "mev": "yellow", "backup": "blue", "junk": "dim", "unknown": "red"}


def inventory(inv) -> None:  # noqa: ANN001 - scan.Inventory
    from rich.table import Table

    table = Table(title=f"{inv.source}", show_lines=False, expand=False)
    widths = {"hazards": 28, "entry": 44, "why": 70}
    for col in ("entry", "role", "chain", "client", "network", "size", "files", "hazards", "why"):
        table.add_column(col, overflow="fold", justify="right" if col in ("size", "files") else "left",
                         max_width=widths.get(col), no_wrap=col in ("size", "files", "role"))
    for e in inv.entries:
        hazards = ", ".join(f"{k}×{n}" if n > 1 else k for k, n in sorted(e.hazard_counts.items()) if k != "symlink")
        role = f"[{ROLE_STYLE.get(e.role, '')}]{e.role}[/]" if e.role in ROLE_STYLE else e.role
        why = e.why + (f" [red]conflict: {e.conflict}[/]" if e.conflict else "") + \
            (f" [yellow](assumed {', '.join(e.assumed)})[/]" if e.assumed else "")
        table.add_row(e.path + ("/" if e.type == "dir" else ""), role, e.chain or "", e.client or "", e.network or "",
                      human_bytes(e.size), str(e.files), f"[red]{hazards}[/]" if e.blocked else hazards, why)
    out = console()
    out.print(table)
    total = sum(e.size for e in inv.entries)
    out.print(f"{len(inv.entries)} entries, {human_bytes(total)} in {sum(e.files for e in inv.entries)} files")
    for h in inv.hazards:
        out.print(f"  [yellow]{h.kind}[/]: {h.path}: {h.detail}")
    blocked = [h for e in inv.entries for h in e.blocked]
    for h in blocked[:20]:
        out.print(f"  [red]{h.kind}[/]: {h.path}: {h.detail}")
    if inv.uninspectable:
        out.print(f"  [yellow]note[/]: {inv.uninspectable} processes could not be inspected "
                  "(run as root to see every user of the data)")


def steps_table(rows: list[dict[str, Any]], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("step", "op", "state", "source", "dest", "size"):
        table.add_column(col, overflow="fold", justify="right" if col in ("step", "size") else "left")
    for r in rows:
        state = r["state"]
        color = {"done": "green", "failed": "red", "started": "yellow", "verified": "yellow"}.get(state, "")
        table.add_row(str(r["step"]), r["op"], f"[{color}]{state}[/]" if color else state, r["source"], r.get("dest") or "",
                      human_bytes(r.get("size", 0)))
    console().print(table)


def checks_table(checks) -> None:  # noqa: ANN001 - list[verify.Check]
    from rich.table import Table

    table = Table(title="verify")
    for col in ("step", "source", "dest", "status", "detail"):
        table.add_column(col, overflow="fold")
    for c in checks:
        color = "green" if c.ok else "red"
        table.add_row("" if c.step is None else str(c.step), c.source, c.dest or "", f"[{color}]{c.status}[/]", c.detail)
    console().print(table)


class RichProgress(Progress):
    """Bytes copied, speed and ETA on stderr (only on a terminal, and only when something is copied)."""

    def __init__(self) -> None:
        self._progress = None
        self._task = None

    def start(self, total_bytes: int, copies: int) -> None:
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
        from rich.progress import Progress as Bar

        err = console(stderr=True)
        if not total_bytes or not err.is_terminal:
            return
        self._progress = Bar(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                             TimeRemainingColumn(), console=err, transient=False)
        self._progress.start()
        self._task = self._progress.add_task("copying", total=total_bytes)

    def phase(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text[:60])

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def note(self, text: str) -> None:
        console(stderr=True).print(text, markup=False)
