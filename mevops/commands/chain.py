"""Node lifecycles: list, install, up, down, restart, status, logs, health, backup, restore."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Run nodes: install, up, down, status, logs, health, backup, restore.",
                  no_args_is_help=True, rich_markup_mode=None)

NETWORK = typer.Option(None, "--network", "-n", help="mainnet, testnet or local (default: every enabled network).")
BACKEND = typer.Option(None, "--backend", "-b", help="process, docker, systemd or kubernetes (default: from config/catalog).")
ROOT = typer.Option(None, "--root", help="Target root (default: mevops.yml's target_root; MEVOPS_ROOT).")
ENV = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV", help="Environment.")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _nodes(ctx: typer.Context, chain: str, network: str | None, root: str | None, env: str | None):  # noqa: ANN202
    from mevops.lifecycle.nodes import resolve_nodes
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    nodes, _ = resolve_nodes(ws, ws.environment(env), ws.target_root(root), chain, network)
    return nodes


def _backend(node, name: str | None):  # noqa: ANN001, ANN202
    from mevops.lifecycle.base import get_backend

    return get_backend(name or node.network.backend)


def _print_status(node, statuses, as_json: bool, backend: str) -> None:  # noqa: ANN001
    if as_json:
        from dataclasses import asdict

        from mevops.output import print_json

        print_json({"node": node.name, "backend": backend, "services": [asdict(s) for s in statuses]})
        return
    for s in statuses:
        pid = f" pid {s.pid}" if s.pid else ""
        extra = "".join(f" {k}={v}" for k, v in s.extra.items())
        typer.echo(f"{node.name} {s.client:<16} {s.state:<10}{pid}{extra}{('  ' + s.detail) if s.detail else ''}")


@app.command("list")
def list_(ctx: typer.Context, root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Every enabled chain and network: backend, clients, ports and process status."""
    from mevops.lifecycle.base import Node
    from mevops.lifecycle.process import ProcessBackend
    from mevops.render.run import RenderRequest, load_context
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    env = ws.environment(env)
    target = ws.target_root(root)
    context = load_context(ws, RenderRequest(target, env))
    rows = []
    process = ProcessBackend()
    for chain in context.chains:
        for network in chain.networks:
            node = Node(chain, network, target)
            states = [s.state for s in process.status(node)] if network.backend == "process" else ["-"]
            rows.append({"chain": chain.name, "network": network.key, "name": network.name, "chain_id": network.chain_id,
                         "backend": network.backend, "clients": [c.name for c in network.clients],
                         "rpc": network.primary.rpc_port, "state": ",".join(sorted(set(states)))})
    if as_json:
        from mevops.output import print_json

        print_json(rows)
        return
    from rich.table import Table

    from mevops.output import console

    table = Table(title=f"nodes ({env}, root {target})")
    for col in ("chain", "network", "chain id", "backend", "clients", "rpc", "state"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["chain"], f"{r['network']} ({r['name']})", str(r["chain_id"] or "-"), r["backend"],
                      ", ".join(r["clients"]), str(r["rpc"] or "-"), r["state"])
    console().print(table)


@app.command("install")
def install(ctx: typer.Context, chain: str, client: str = typer.Option(..., "--client", "-c", help="Client to install."),
            version: Optional[str] = typer.Option(None, "--version", help="Version (default: the catalog's pinned default)."),
            root: Optional[str] = ROOT, env: Optional[str] = ENV) -> None:
    """Fetch a pinned client release, verify its sha256 and switch to it atomically."""
    from mevops.errors import MevopsError, Problem
    from mevops.lifecycle.install import install_client

    nodes = _nodes(ctx, chain, None, root, env)
    catalog = nodes[0].chain.catalog
    if client not in catalog.clients:
        raise MevopsError(Problem("--client", None, client, f"unknown {chain} client (have: {', '.join(catalog.clients)})"))
    spec = catalog.clients[client]
    result = install_client(Path(nodes[0].chain.dir) / "binaries", client, spec.binary, spec.install, version)
    verb = "installed" if result.changed else "already current:"
    typer.echo(f"{verb} {client} {result.version} at {result.path}" + (f" (was {result.previous})" if result.previous and result.changed else ""))


def _each(ctx, chain, network, root, env, backend, action, as_json):  # noqa: ANN001, ANN202
    for node in _nodes(ctx, chain, network, root, env):
        b = _backend(node, backend)
        _print_status(node, getattr(b, action)(node), as_json, b.name)


@app.command("up")
def up(ctx: typer.Context, chain: str, network: Optional[str] = NETWORK, backend: Optional[str] = BACKEND,
       root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Start the node (idempotent: running services are left alone)."""
    _each(ctx, chain, network, root, env, backend, "up", as_json)


@app.command("down")
def down(ctx: typer.Context, chain: str, network: Optional[str] = NETWORK, backend: Optional[str] = BACKEND,
         root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Stop the node politely (SIGTERM, grace period, SIGKILL); data is kept."""
    _each(ctx, chain, network, root, env, backend, "down", as_json)


@app.command("restart")
def restart(ctx: typer.Context, chain: str, network: Optional[str] = NETWORK, backend: Optional[str] = BACKEND,
            root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Stop then start the node."""
    for node in _nodes(ctx, chain, network, root, env):
        b = _backend(node, backend)
        b.down(node)
        _print_status(node, b.up(node), as_json, b.name)


@app.command("status")
def status(ctx: typer.Context, chain: str, network: Optional[str] = NETWORK, backend: Optional[str] = BACKEND,
           root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Service states from the backend (exit 1 if any service is not running)."""
    from mevops.errors import CheckFailed

    down_services = []
    for node in _nodes(ctx, chain, network, root, env):
        b = _backend(node, backend)
        statuses = b.status(node)
        _print_status(node, statuses, as_json, b.name)
        down_services += [s for s in statuses if s.state != "running"]
    if down_services:
        raise CheckFailed()


@app.command("logs")
def logs(ctx: typer.Context, chain: str, network: str = typer.Option("local", "--network", "-n"), backend: Optional[str] = BACKEND,
         lines: int = typer.Option(100, "--lines"), follow: bool = typer.Option(False, "--follow", "-f"),
         root: Optional[str] = ROOT, env: Optional[str] = ENV) -> None:
    """Print (and follow) the node's logs."""
    node = _nodes(ctx, chain, network, root, env)[0]
    try:
        for line in _backend(node, backend).logs(node, lines=lines, follow=follow):
            typer.echo(line, nl=False)
    except KeyboardInterrupt:
        pass


@app.command("health")
def health(ctx: typer.Context, chain: str, network: Optional[str] = NETWORK, root: Optional[str] = ROOT,
           env: Optional[str] = ENV, reference: Optional[str] = typer.Option(None, "--reference", help="Reference RPC URL for head lag."),
           watch: bool = typer.Option(False, "--watch", help="Refresh every few seconds."),
           interval: float = typer.Option(3.0, "--interval"), as_json: bool = JSON) -> None:
    """Check every node of the chain; exit 0 healthy, 1 unhealthy."""
    from mevops.commands.chain_health import run_health

    run_health(_nodes(ctx, chain, network, root, env), reference, watch, interval, as_json)


@app.command("exporter")
def exporter(ctx: typer.Context, host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
             port: int = typer.Option(9310, "--port", min=0, max=65535,
                                      help="Port (9310: where the rendered Prometheus configs scrape it; 0: a free one)."),
             interval: float = typer.Option(15.0, "--interval", min=1.0, help="Seconds between health rounds."),
             root: Optional[str] = ROOT, env: Optional[str] = ENV) -> None:
    """Serve mevops_node_* (head, reference head, peers, syncing, RPC up and latency) for every enabled node."""
    import asyncio
    import signal

    from mevops.lifecycle.exporter import serve
    from mevops.lifecycle.monitor import NodeMonitor, workspace_nodes
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    nodes = workspace_nodes(ws, ws.environment(env), ws.target_root(root))
    monitor = NodeMonitor(nodes, interval=interval)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(monitor, host, port, stop=stop, on_listen=lambda h, p: typer.echo(
            f"node-health exporter on http://{h}:{p}/metrics ({len(nodes())} nodes, every {interval:g}s)", err=True))

    asyncio.run(main())


@app.command("backup")
def backup(ctx: typer.Context, chain: str, network: str = typer.Option(..., "--network", "-n"), backend: Optional[str] = BACKEND,
           keep: int = typer.Option(7, "--keep", help="Archives to keep (retention)."),
           root: Optional[str] = ROOT, env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Archive the node's data with a checksum manifest (stops and restarts a running node)."""
    from mevops.lifecycle.backup import create_backup

    node = _nodes(ctx, chain, network, root, env)[0]
    result = create_backup(node, _backend(node, backend), keep)
    if as_json:
        from mevops.output import print_json

        print_json({"archive": str(result.archive), "files": result.files, "bytes": result.bytes, "sha256": result.sha256,
                    "removed": [str(p) for p in result.removed]})
    else:
        typer.echo(f"backup {result.archive} ({result.files} files, {result.bytes} bytes, sha256 {result.sha256[:16]}…)")


@app.command("restore")
def restore(ctx: typer.Context, chain: str, archive: Path, network: str = typer.Option(..., "--network", "-n"),
            backend: Optional[str] = BACKEND, root: Optional[str] = ROOT, env: Optional[str] = ENV) -> None:
    """Verify a backup, restore it beside the current data and swap only on success."""
    from mevops.lifecycle.backup import restore_backup

    node = _nodes(ctx, chain, network, root, env)[0]
    kept = restore_backup(node, _backend(node, backend), archive)
    typer.echo(f"restored {node.name} from {archive}" + (f"; previous data kept at {', '.join(map(str, kept))}" if kept else ""))
