"""The engine on a real anvil: exact profit from a test-made dislocation, no send when the
simulation fails, reconnect with backfill of missed logs, and no key in DEBUG logs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mevops.engine.demo import DEV_ACCOUNTS, DEV_SEARCHER_KEY, WETH_INVENTORY, DemoState, read_reserves, setup_market


def _signer():
    from mevops.engine.chain.signer import Signer

    return Signer(DEV_SEARCHER_KEY, "anvil dev account #1")


async def _dislocate(rpc, market, amount_weth: int) -> None:
    """Sell WETH into dex 0's WETH/USDC pool: the two DEXes now disagree."""
    from mevops.contracts.transactions import encode_call

    pair = market.pair("WETH", "USDC", 0)
    call = encode_call("UniswapV2Router", "swapExactTokensForTokens", amount_weth, 0, [market.weth, market.address("USDC")],
                       DEV_ACCOUNTS[2], 2**63)
    await rpc.call("eth_sendTransaction", [{"from": DEV_ACCOUNTS[2], "to": market.routers[pair.dex], "data": "0x" + call.hex(),
                                            "gas": hex(300_000)}])


def _engine(rpc, url, market, executor, signer, state, results, **executor_kw):
    from mevops.engine.chain.nonce import NonceManager
    from mevops.engine.collectors.blocks import BlockCollector
    from mevops.engine.collectors.pool_logs import PoolLogCollector
    from mevops.engine.core import Engine
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.executors.mempool import MempoolExecutor
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy

    async def build():
        reserves = await read_reserves(rpc, market.pairs)
        pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps) for p in market.pairs]
        weth = market.weth.lower()
        strategy = ArbStrategy("arb", pools, ArbSettings("ethereum", [weth], weth, max_input={weth: WETH_INVENTORY}))
        strategy.sync_state({"reserves": reserves})

        async def pending(address: str) -> int:
            return int(await rpc.call("eth_getTransactionCount", [address, "pending"]), 16)

        executor_ = MempoolExecutor(rpc, signer, NonceManager(signer.address, pending), executor, state.chain_id,
                                    on_final=lambda a, r: results.append((a, r)), **executor_kw)
        ws = url.replace("http", "ws")
        engine = Engine([BlockCollector(rpc, ws), PoolLogCollector(rpc, [p.address for p in pools], ws)], [strategy], [executor_])
        return engine, executor_, strategy

    return build()


def test_dislocation_is_traded_for_exactly_the_predicted_profit(start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)

    async def scenario():
        from mevops.engine.collectors.rpc import HttpRpc

        rpc, state, signer, results = HttpRpc(url), DemoState(), _signer(), []
        market, executor = await setup_market(url, state, signer)
        engine, executor_, _ = await _engine(rpc, url, market, executor, signer, state, results)
        await engine.start()
        await asyncio.sleep(2.5)          # whatever the seeded market offers is taken first
        await executor_.drain()
        results.clear()
        await _dislocate(rpc, market, 20 * 10**18)
        for _ in range(100):
            await asyncio.sleep(0.1)
            if results:
                break
        await engine.stop()
        await executor_.drain()
        await rpc.close()
        return results

    results = asyncio.run(scenario())
    assert results, "the dislocation was not traded"
    action, result = results[0]
    assert result.status == "mined"
    assert result.realized_profit == action.expected_profit  # V2 math is exact


def test_failed_simulation_sends_nothing(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.chain.nonce import NonceManager
        from mevops.engine.collectors.rpc import HttpRpc
        from mevops.engine.executors.mempool import MempoolExecutor
        from mevops.engine.types import ArbTrade, Hop

        rpc, state, signer = HttpRpc(url), DemoState(), _signer()
        market, executor = await setup_market(url, state, signer)
        pair = market.pair("WETH", "USDC", 0)
        back = market.pair("WETH", "USDC", 1)
        weth, usdc = market.weth, market.address("USDC")
        hops = (Hop(pair.address, weth, usdc, pair.token0.lower() == weth.lower(), pair.fee_bps),
                Hop(back.address, usdc, weth, back.token0.lower() == usdc.lower(), back.fee_bps))
        trade = ArbTrade("arb", "ethereum", weth, hops, 10**18, 0, 0, 0, min_profit=10**18, gas_limit=400_000,
                         max_fee_per_gas=10**11, max_priority_fee_per_gas=10**9, block=0)

        async def pending(address: str) -> int:
            return int(await rpc.call("eth_getTransactionCount", [address, "pending"]), 16)

        before = await pending(signer.address)
        result = await MempoolExecutor(rpc, signer, NonceManager(signer.address, pending), executor, state.chain_id).execute(trade)
        after = await pending(signer.address)
        await rpc.close()
        return result, before, after

    result, before, after = asyncio.run(scenario())
    assert result.status == "simulated_fail" and "unprofitable" in result.reason
    assert before == after  # nothing was sent


class _CuttableProxy:
    """A loopback TCP proxy in front of anvil whose connections the test can cut (a fake network fault)."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.writers, self.server, self.port = target_port, [], None, 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()


def test_websocket_cut_reconnects_and_backfills_missed_logs(start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    port = int(url.rsplit(":", 1)[1])

    async def scenario():
        from mevops.engine.collectors.pool_logs import PoolLogCollector
        from mevops.engine.collectors.rpc import HttpRpc

        rpc, state, signer = HttpRpc(url), DemoState(), _signer()
        market, _ = await setup_market(url, state, signer)
        proxy = _CuttableProxy(port)
        await proxy.start()
        pools = [p.address for p in market.pairs]
        collector = PoolLogCollector(rpc, pools, f"ws://127.0.0.1:{proxy.port}")
        seen = []

        async def consume():
            async for event in collector.events():
                seen.append((event.block, event.log_index))

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.5)
        start = int(await rpc.call("eth_blockNumber"), 16)
        await _dislocate(rpc, market, 10**18)
        await asyncio.sleep(1.5)
        proxy.cut()
        proxy.server.close()  # stay down while the market moves
        for _ in range(3):
            await _dislocate(rpc, market, 10**18)
            await asyncio.sleep(1.1)
        proxy.server = await asyncio.start_server(proxy._handle, "127.0.0.1", proxy.port)
        await asyncio.sleep(3)
        end = int(await rpc.call("eth_blockNumber"), 16)
        task.cancel()
        logs = await rpc.call("eth_getLogs", [{"address": pools, "fromBlock": hex(start), "toBlock": hex(end),
                                                "topics": ["0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"]}])
        await rpc.close()
        return seen, {(int(e["blockNumber"], 16), int(e["logIndex"], 16)) for e in logs}, collector

    seen, expected, collector = asyncio.run(scenario())
    assert collector.reconnects >= 1 and collector.backfilled >= 1
    assert expected and expected <= set(seen)
    assert len(seen) == len(set(seen))  # nothing twice


def test_debug_logs_never_contain_the_key(start_anvil, tmp_path, run):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        result = run("demo", "--rpc", url, "--blocks", "3", "--json", cwd=tmp_path)
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()
    assert result.code == 0, result.err
    text = log_file.read_text()
    assert text, "DEBUG logging produced nothing: the test would prove nothing"
    assert DEV_SEARCHER_KEY[2:] not in text and DEV_SEARCHER_KEY[2:] not in result.out + result.err


def test_pending_transactions_arrive_with_full_bodies(start_anvil):
    from mevops.engine.collectors.mempool import PendingTxCollector
    from mevops.engine.collectors.rpc import HttpRpc

    url, _ = start_anvil(chain_id=31337, block_time=2)

    async def scenario():
        rpc = HttpRpc(url)
        collector = PendingTxCollector(rpc, url.replace("http", "ws"))
        got = []

        async def consume():
            async for event in collector.events():
                got.append(event)
                return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.5)
        sent = await rpc.call("eth_sendTransaction", [{"from": DEV_ACCOUNTS[0], "to": DEV_ACCOUNTS[1], "value": "0x1",
                                                        "data": "0xdeadbeef"}])
        await asyncio.wait_for(task, 10)
        await rpc.close()
        return sent, got

    sent, got = asyncio.run(scenario())
    assert got[0].hash == sent and got[0].input == "0xdeadbeef" and got[0].sender.lower() == DEV_ACCOUNTS[0].lower()
