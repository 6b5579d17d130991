"""Show mevops working on this machine, with no services and no internet."""

from __future__ import annotations

from typing import Optional

import typer


def demo(
    rpc: Optional[str] = typer.Option(None, "--rpc", help="Use this dev node (unlocked accounts) instead of starting a local anvil."),
    blocks: int = typer.Option(20, "--blocks", min=0, help="Run for this many blocks (0: until Ctrl-C, the dashboard stays up)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object at the end, nothing else."),
    sim: str = typer.Option("eth_call", "--sim", help="Simulate trades with eth_call (the node) or revm (in-process)."),
    api_port: int = typer.Option(8080, "--api-port", min=0, max=65535,
                                 help="Serve the engine API here while the demo runs (a free port if it is taken)."),
    no_api: bool = typer.Option(False, "--no-api", help="Do not serve the engine API."),
    scenario: str = typer.Option("arbitrage", "--scenario",
                                 help="arbitrage (the default: the engine on a random market, API served), flash "
                                      "(flash-loan arbitrage, zero inventory), liquidation (oracle update -> HF<1 -> "
                                      "flash-funded liquidation), bundle (a bundle landing via the devnet relay) or all."),
) -> None:
    """Start a local chain, deploy tokens, two DEXes and the executor, and let the engine arbitrage a random market."""
    import asyncio

    if sim not in ("eth_call", "revm"):
        raise typer.BadParameter("--sim is eth_call or revm")
    if scenario != "arbitrage":
        if blocks == 0:
            raise typer.BadParameter("--blocks 0 (run until Ctrl-C) is for the arbitrage scenario")
        from mevops.engine.scenarios.demo import run_scenarios

        run_scenarios(scenario, rpc, blocks, as_json, sim)
        return
    asyncio.run(_demo(rpc, blocks, as_json, sim, None if no_api else api_port))


def _view(state, engine):  # noqa: ANN001, ANN202
    from rich.table import Table

    table = Table(title=f"mevops demo — chain {state.chain_id}, executor {state.executor[:10]}…")
    for col in ("blocks", "market swaps", "opportunities", "trades landed", "failed", "realized (WETH)", "event lag p50", "drops"):
        table.add_column(col, justify="right")
    snap = engine.metrics.snapshot()
    lag = snap["event_lag_ms_p50"]
    table.add_row(str(state.blocks), str(state.actor_swaps), str(state.opportunities), str(len(state.trades)),
                  str(len(state.failed)), f"{state.realized / 1e18:.6f}", f"{lag:.2f} ms" if lag is not None else "-",
                  str(sum(snap["dropped"].values())))
    return table


def _api_options(port: int | None):  # noqa: ANN202
    """127.0.0.1:port, or a free port when that one is taken (the demo must start anywhere)."""
    if port is None:
        return None
    import socket

    from mevops.engine.api.server import ApiOptions

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            port = 0
    return ApiOptions(port=port)


async def _demo(rpc: str | None, blocks: int, as_json: bool, sim: str = "eth_call", api_port: int | None = None) -> None:
    import asyncio
    import os
    import signal
    import tempfile
    from pathlib import Path

    from mevops.engine.chain.signer import Signer
    from mevops.engine.demo import DEV_SEARCHER_KEY, DemoState, run_engine, setup_market, start_local_node, verify_profit
    from mevops.errors import CheckFailed
    from mevops.output import console, print_json

    out = console()
    state = DemoState()
    with tempfile.TemporaryDirectory(prefix="mevops-demo-") as tmp:
        backend = node = None
        workspace = Path(tmp) / "workspace"
        if rpc is None:
            if not as_json:
                out.print("starting a local anvil through the lifecycle layer (ethereum/local)…")
            rpc, backend, node = start_local_node(Path(tmp))
        else:
            from mevops.workspace_init import init_workspace

            init_workspace(workspace, ["ethereum"], str(Path(tmp) / "root"), "development")
        try:
            signer = Signer.from_env() or Signer(DEV_SEARCHER_KEY, "anvil dev account #1")
            state.rpc, state.searcher = rpc, signer.address
            market, executor = await setup_market(rpc, state, signer)
            state.executor, state.profit_token = executor, market.weth
            if not as_json:
                out.print(f"deployed {len(market.tokens)} tokens, {len(market.pairs)} pools on 2 DEXes (fees 0.30% / 0.25%), "
                          f"executor {executor} with 50 WETH; engine running for {blocks} blocks")
            live = None
            if not as_json:
                from rich.live import Live

                live = Live(console=out, refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)
                live.start()
            try:
                def announce(server, store) -> None:  # noqa: ANN001
                    token = store.create_token("demo", "admin")[0] if store is not None else "(no store)"
                    state.api_url = server.url
                    if not as_json:
                        out.print(f"engine API on {server.url} (docs {server.url}/docs); demo admin token, valid while "
                                  f"the demo runs: {token}", soft_wrap=True)
                        out.print(f"dashboard: {server.url}/ (sign in with the token above"
                                  + ("; Ctrl-C ends the demo)" if blocks == 0 else f"; up while the demo runs its {blocks} "
                                     "blocks — --blocks 0 keeps it up until Ctrl-C)"), soft_wrap=True)

                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await run_engine(rpc, market, executor, signer, state, blocks,
                                 on_tick=(lambda s, e: live.update(_view(s, e))) if live else None,
                                 workspace=workspace, store_url=f"sqlite:///{tmp}/engine.db", simulator=sim,
                                 api=_api_options(api_port), on_api=announce, nodes=[node] if node is not None else None,
                                 stop_event=stop)
            finally:
                if live is not None:
                    live.stop()
                    out.print()
            delta = await verify_profit(rpc, market.weth, executor, state)
        finally:
            if backend is not None:
                backend.down(node)
    if delta != state.realized:
        raise CheckFailed(f"executor balance changed by {delta} wei but the trades report {state.realized} wei")
    if as_json:
        print_json(state.summary())
        return
    out.print(f"[bold]{len(state.trades)} arbitrage trades landed[/], realized {state.realized / 1e18:.6f} WETH "
              f"(executor balance +{delta} wei, checked on chain); {len(state.failed)} failed or reverted; "
              f"{state.opportunities} opportunities over {state.blocks} blocks; outcomes {state.summary()['outcomes']}; "
              f"{state.stored_trades} trades in the store; risk-checked against the workspace's development limits")
    for trade in state.trades[:10]:
        out.print(f"  block {trade['block']}: {trade['tx_hash']}  +{trade['profit_wei'] / 1e18:.6f} WETH, gas {trade['gas_used']}")
