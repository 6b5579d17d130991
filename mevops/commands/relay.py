"""Run a bundle relay for a local devnet (anvil): Flashbots eth_sendBundle / eth_cancelBundle / eth_callBundle."""

from __future__ import annotations

from typing import Optional

import typer


def relay(
    rpc: str = typer.Option("http://127.0.0.1:8545", "--rpc",
                            help="The anvil to build blocks for (the relay turns its own mining off and mines every block)."),
    port: int = typer.Option(8555, "--port", min=0, max=65535, help="Listen on this port (0: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Listen on this address."),
    block_time: float = typer.Option(1.0, "--block-time", min=0.05, help="Seconds between blocks."),
    coinbase: Optional[str] = typer.Option(None, "--coinbase",
                                           help="Fee recipient of the blocks, where bribes go (default 0x…c01b)."),
    blocks: Optional[int] = typer.Option(None, "--blocks", min=1, help="Stop after building this many blocks."),
    as_json: bool = typer.Option(False, "--json", help="At the end, print one JSON summary and nothing else."),
) -> None:
    """Accept signed bundles and include each all or nothing in its target block of a local anvil.

    Requests must carry X-Flashbots-Signature. Bundles are simulated first; a bundle whose
    transaction reverts (unless listed in revertingTxHashes) is left out entirely. Not for
    mainnet: a real relay is https://relay.flashbots.net."""
    import asyncio

    from mevops.errors import MevopsError, Problem

    if coinbase is not None and (len(coinbase) != 42 or coinbase[:2] != "0x" or not _is_hex(coinbase[2:])):
        raise MevopsError(Problem("--coinbase", None, "coinbase", "not a 0x-prefixed 20-byte hex address"))
    summary = asyncio.run(_serve(rpc, host, port, block_time, coinbase, blocks, as_json))
    if as_json:
        from mevops.output import print_json

        print_json(summary)


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


async def _serve(rpc: str, host: str, port: int, block_time: float, coinbase: str | None, blocks: int | None,
                 as_json: bool) -> dict:
    import asyncio
    import signal
    from collections import Counter

    from mevops.engine.bundles.relay.http import RelayServer
    from mevops.engine.bundles.relay.service import DEFAULT_COINBASE, DevnetRelay

    relay = DevnetRelay(rpc, coinbase=coinbase or DEFAULT_COINBASE, block_time=block_time)
    server = RelayServer(relay, host, port)
    await server.start(blocks)
    if not as_json:
        typer.echo(f"bundle relay on {server.url} for {rpc} (chain {relay.chain_id}): a block every {block_time:g}s, "
                   f"coinbase {relay.coinbase}; Ctrl-C stops it", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    assert relay.building is not None
    await asyncio.wait([waiter, relay.building], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    statuses = Counter(s.status for copies in relay.pool.by_hash.values() for s in copies)
    built = relay.built
    await server.stop()
    summary = {"url": server.url, "rpc": rpc, "chain_id": relay.chain_id, "coinbase": relay.coinbase, "head": relay.head,
               "blocks_built": built, "bundles": dict(statuses)}
    if not as_json:
        typer.echo(f"stopped at block {relay.head}: {built} block(s) built; bundles "
                   + (", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"), err=True)
    return summary
