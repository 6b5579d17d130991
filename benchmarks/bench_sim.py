"""Simulation speed: in-process revm (warm fork) vs eth_call on a local anvil, same run.

A local anvil gets the demo market (4 tokens, 2 DEXes, a funded ArbExecutor); a 20 WETH sale
dislocates one pool and the engine's ArbStrategy sizes the arbitrage. The same profitable
``ArbExecutor.execute`` call is then simulated N times by the engine's ``eth_call`` Simulator and
N times by ``RevmSimulator`` (the full ``await sim(trade, calldata)`` path, warm fork), in
alternating blocks so both see the same machine load; every answer must equal eth_call's first
(ok, profit). Target: revm's median >= 10x faster. Also printed, not gated: each revm call run
right after an eth_call round trip, with the CPU caches cold (what one trade in the engine sees).
Run: ``python benchmarks/bench_sim.py [--n N] [--block B]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from anvil_market import anvil, deploy, percentile

RATIO_TARGET = 10.0


async def profitable_trade(rpc, market):
    from mevops.contracts.transactions import encode_call
    from mevops.engine.collectors.blocks import block_event
    from mevops.engine.demo import DEV_ACCOUNTS, WETH_INVENTORY, read_reserves
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy

    actor = DEV_ACCOUNTS[2]
    call = encode_call("UniswapV2Router", "swapExactTokensForTokens", 20 * 10**18, 0, [market.weth, market.address("USDC")],
                       actor, 2**63)
    await rpc.call("eth_sendTransaction", [{"from": actor, "to": market.routers[0], "data": "0x" + call.hex(), "gas": hex(300_000)}])
    reserves = await read_reserves(rpc, market.pairs)
    pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps) for p in market.pairs]
    weth = market.weth.lower()
    strategy = ArbStrategy("bench", pools, ArbSettings("ethereum", [weth], weth, max_input={weth: WETH_INVENTORY}))
    strategy.sync_state({"reserves": reserves})
    actions = strategy.process_event(block_event(await rpc.call("eth_getBlockByNumber", ["latest", False])))
    if not actions:
        raise SystemExit("no arbitrage found after the dislocation")
    return actions[0]


async def timed(fn, trade, data) -> tuple[float, tuple]:
    start = time.perf_counter()
    result = await fn(trade, data)
    return (time.perf_counter() - start) * 1e6, result


async def measure(eth_call, revm, trade, data, want, n: int, block: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Steady state: alternating blocks of ``block`` calls of each (both see the same load over time);
    then after-I/O: one revm call right after each eth_call round trip (caches cold)."""
    call_us, revm_us, cold_call_us, cold_revm_us = [], [], [], []
    for i in range(max(1, n // block)):
        for fn, out in ((eth_call, call_us), (revm, revm_us))[:: 1 if i % 2 == 0 else -1]:
            for _ in range(block):
                elapsed, result = await timed(fn, trade, data)
                out.append(elapsed)
                assert result == want, result
    for _ in range(max(1, n // 2)):
        cold_call_us.append((await timed(eth_call, trade, data))[0])
        cold_revm_us.append((await timed(revm, trade, data))[0])
    return call_us, revm_us, cold_call_us, cold_revm_us


def report(name: str, values: list[float]) -> None:
    print(f"  {name:38s} median {statistics.median(values):8.1f} us   p99 {percentile(values, 0.99):8.1f} us   (n={len(values)})")


async def run(url: str, n: int, block: int) -> float:
    from mevops.engine.collectors.rpc import HttpRpc
    from mevops.engine.executors.arb_call import execute_calldata
    from mevops.engine.executors.mempool import Simulator
    from mevops.engine.sim.revm import RevmSimulator

    market, executor, signer, _ = await deploy(url)
    rpc = HttpRpc(url)
    trade = await profitable_trade(rpc, market)
    data = execute_calldata(trade)
    eth_call = Simulator(rpc, signer.address, executor)
    revm = await RevmSimulator.create(url, signer.address, executor, market.pairs, rpc=rpc, warm_calls=[data])
    want, got = await eth_call(trade, data), await revm(trade, data)
    if not (want[0] and want == got):
        raise SystemExit(f"revm and eth_call disagree: eth_call {want}, revm {got}")
    for _ in range(50):  # warm both paths (connections, caches)
        await eth_call(trade, data)
        await revm(trade, data)
    call_us, revm_us, cold_call_us, cold_revm_us = await measure(eth_call, revm, trade, data, want, n, block)
    await revm.close()
    await rpc.close()
    print(f"simulating ArbExecutor.execute ({len(trade.hops)} hops, {len(data)} bytes calldata, profit {want[2]} wei); "
          f"both answer (True, '', {want[2]})")
    print(f"steady state, alternating blocks of {block}:")
    report("eth_call (engine Simulator, anvil HTTP)", call_us)
    report("revm (RevmSimulator, warm fork)", revm_us)
    ratio = statistics.median(call_us) / statistics.median(revm_us)
    cold = statistics.median(cold_call_us) / statistics.median(cold_revm_us)
    print("after I/O, one revm call right after each eth_call (cold CPU caches):")
    report("eth_call", cold_call_us)
    report("revm", cold_revm_us)
    print(f"revm is {ratio:.1f}x faster than eth_call (steady-state medians; target >= {RATIO_TARGET:g}x); "
          f"{cold:.1f}x right after I/O; revm stats {dict(revm.stats)}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="simulations of each kind")
    parser.add_argument("--block", type=int, default=50, help="consecutive calls of one kind before switching")
    args = parser.parse_args()
    with anvil() as url:
        ratio = asyncio.run(run(url, args.n, args.block))
    if ratio < RATIO_TARGET:
        print(f"FAIL: revm only {ratio:.1f}x faster than eth_call (target {RATIO_TARGET:g}x)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
