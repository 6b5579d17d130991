"""Run the bundled MEV engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Run the bundled MEV engine.", no_args_is_help=True, rich_markup_mode=None)


@app.command("run")
def run(
    ctx: typer.Context,
    market: Path = typer.Option(..., "--market", help="Market file (tokens, pairs, WETH) as written by the devnet helpers."),
    rpc: str = typer.Option(..., "--rpc", help="Node HTTP RPC URL (WebSocket on the same port)."),
    chain: str = typer.Option("ethereum", "--chain"),
    executor: Optional[str] = typer.Option(None, "--executor", help="ArbExecutor address (required with --live)."),
    live: bool = typer.Option(False, "--live/--paper", help="--live sends transactions; --paper (the default) simulates and records only."),
    blocks: Optional[int] = typer.Option(None, "--blocks", min=1, help="Stop after this many blocks."),
    env: Optional[str] = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV"),
    db: Optional[str] = typer.Option(None, "--db", help="Store URL (default: the config's mev_engine.store.url)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run the arbitrage engine: paper trading by default, live only with --live (and a signer)."""
    import asyncio
    from dataclasses import asdict

    from mevops.engine.chain.signer import Signer
    from mevops.engine.runtime import RunOptions
    from mevops.engine.runtime import run as run_engine
    from mevops.errors import MevopsError, Problem
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    env = ws.environment(env)
    signer = Signer.from_env()
    if live and (signer is None or executor is None):
        raise MevopsError(Problem("--live", None, "signer", "live trading needs --executor and a signer "
                                  "(MEVOPS_SIGNER_KEY or MEVOPS_SIGNER_KEYSTORE)"))
    from mevops.config.validate import effective_config

    url = db or effective_config(ws, env)[0].mev_engine.store.url
    opts = RunOptions(rpc=rpc, market=market, chain=chain, executor=executor, live=live, blocks=blocks, store_url=url)
    report = asyncio.run(run_engine(ws, env, opts, signer))
    if as_json:
        from mevops.output import print_json

        print_json(asdict(report))
    else:
        typer.echo(f"engine stopped after {report.blocks} blocks ({report.mode}, chain {report.chain_id}, "
                   f"strategy {report.strategy}): {report.outcomes}")
