"""Show mevops working on this machine, with no services and no internet."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def demo(
    directory: Optional[Path] = typer.Option(None, "--dir", help="Keep the demo workspace here (default: a temporary directory)."),
) -> None:
    """Create a workspace, validate every environment and show the catalog and the layered config."""
    import tempfile

    from rich.table import Table

    from mevops.config.validate import effective_config, validate_workspace
    from mevops.errors import MevopsError
    from mevops.output import console
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    out = console()
    with tempfile.TemporaryDirectory(prefix="mevops-demo-") as tmp:
        root = directory or Path(tmp) / "workspace"
        result = init_workspace(root, None, str(Path(tmp) / "blockchain"), "development")
        out.print(f"[bold]1. mevops init[/] {root}: {len(result.written)} files, {len(result.enabled)} chains enabled")
        ws = Workspace.open(root)
        reports = [validate_workspace(ws, env) for env in ws.environments()]
        for report in reports:
            status = "[green]valid[/]" if report.ok else f"[red]{len(report.problems)} problems[/]"
            out.print(f"[bold]2. mevops config validate --env {report.env}[/]: {status}")
        if not all(r.ok for r in reports):
            raise MevopsError([p for r in reports for p in r.problems])
        catalog = reports[0].catalog
        table = Table(title="3. chain catalog (default clients; host ports side by side on one host)")
        for col in ("chain", "network", "chain id", "block", "clients", "rpc port"):
            table.add_column(col)
        for chain in catalog.values():
            for key, network in chain.networks.items():
                clients = chain.clients_for(key)
                ports = chain.host_ports(key)
                rpc = next((str(p) for (c, name), p in ports.items() if name == "rpc"), "-")
                table.add_row(chain.name, f"{key} ({network.name})", str(network.chain_id or "-"),
                              f"{network.block_time} ms", ", ".join(clients.values()), rpc)
        out.print(table)
        cfg, layered = effective_config(ws, "production")
        table = Table(title="4. mevops config show --env production --explain (excerpt)")
        for col in ("key", "value", "set by"):
            table.add_column(col)
        for path in (("global", "environment"), ("global", "logging", "level"), ("mev", "max_gas_price"),
                     ("mev", "min_profit_threshold"), ("risk_limits", "global_limits", "max_daily_loss"),
                     ("risk_limits", "strategy_limits", "arbitrage", "max_position_size")):
            value = layered.data
            for part in path:
                value = value[part]
            origin = str(layered.origin_of(path)).removeprefix(f"{root}/")
            table.add_row(".".join(path), str(value), origin)
        out.print(table)
        out.print(f"parsed once at the edge: mev.max_gas_price = {cfg.mev.max_gas_price} wei, "
                  f"rpc_timeout = {cfg.global_.networking.rpc_timeout} s")
        active = [r for r in reports[0].strategies if r.stage in ("testing", "active")]
        out.print(f"[bold]5. strategies[/]: {len(reports[0].strategies)} files, {len(active)} in testing/active, all within risk limits")
