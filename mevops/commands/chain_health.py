"""Printing for `mevops chain health` (one-shot, --watch and --json)."""

from __future__ import annotations

import asyncio
import time

import typer


def _table(reports):  # noqa: ANN001, ANN202
    from rich.table import Table

    table = Table(title=f"node health at {time.strftime('%H:%M:%S')}")
    for col in ("node", "client", "healthy", "head", "latency", "checks"):
        table.add_column(col, overflow="fold")
    for r in reports:
        checks = "; ".join(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}" for c in r.checks)
        table.add_row(r.node, r.client, "[green]yes[/]" if r.healthy else "[red]NO[/]", str(r.head if r.head is not None else "-"),
                      f"{r.latency_ms} ms" if r.latency_ms is not None else "-", checks)
    return table


def run_health(nodes, reference, watch: bool, interval: float, as_json: bool) -> None:  # noqa: ANN001
    from mevops.errors import CheckFailed
    from mevops.lifecycle.health import check_node
    from mevops.output import console, print_json

    async def gather():  # noqa: ANN202
        return [r for node in nodes for r in await check_node(node, reference)]

    if watch and not as_json:
        from rich.live import Live

        try:
            with Live(_table(asyncio.run(gather())), console=console(), refresh_per_second=2) as live:
                while True:
                    time.sleep(interval)
                    live.update(_table(asyncio.run(gather())))
        except KeyboardInterrupt:
            return
    reports = asyncio.run(gather())
    if as_json:
        print_json([r.as_dict() for r in reports])
    else:
        console().print(_table(reports))
    if not all(r.healthy for r in reports):
        raise CheckFailed("unhealthy: " + ", ".join(f"{r.node} {r.client}" for r in reports if not r.healthy))
