"""RevmSimulator on a real anvil: it must answer exactly what eth_call answers.

The differential test drives a market through random swaps (several per block, empty blocks,
our own trades landing, withdrawals from the executor) and a fork rebuilt every few blocks; the
simulator learns of it only through the events the engine gets (heads, then Sync logs) and its
per-block executor-balance refresh. After every round, random trades (2- and 3-hop cycles, any
size, some above the executor's balance, some with a min_profit too high) are simulated by revm
(directly, no fallback) and by eth_call: same success, same profit to the wei, same revert reason.
"""

from __future__ import annotations

import asyncio
import collections
import random

import pytest

pytest.importorskip("pyrevm")

from mevops.engine.demo import DEV_ACCOUNTS, DEV_SEARCHER_KEY, DemoState, setup_market
from mevops.engine.types import ArbTrade, Hop

ACTOR = DEV_ACCOUNTS[2]


def _signer():
    from mevops.engine.chain.signer import Signer

    return Signer(DEV_SEARCHER_KEY, "anvil dev account #1")


def _trade(market, symbols: list[str], dexes: list[int], amount: int, min_profit: int = 0, gas: int = 1_000_000) -> ArbTrade:
    """A cycle through ``symbols`` (first == last), hop i on dex ``dexes[i]``."""
    hops = []
    for i, dex in enumerate(dexes):
        token_in, token_out = market.address(symbols[i]), market.address(symbols[i + 1])
        pair = market.pair(symbols[i], symbols[i + 1], dex)
        hops.append(Hop(pair.address, token_in, token_out, pair.token0.lower() == token_in.lower(), pair.fee_bps))
    return ArbTrade("arb", "ethereum", market.address(symbols[0]), tuple(hops), amount, 0, 0, 0, min_profit=min_profit,
                    gas_limit=gas, max_fee_per_gas=10**11, max_priority_fee_per_gas=10**9, block=0)


def _random_trade(market, rng: random.Random, balance: int) -> ArbTrade:
    others = [s for s in market.tokens if s != "WETH"]
    if rng.random() < 0.5:
        x = rng.choice(others)
        symbols, dexes = ["WETH", x, "WETH"], [rng.randrange(2), rng.randrange(2)]
    else:
        x, y = rng.sample(others, 2)
        symbols, dexes = ["WETH", x, y, "WETH"], [rng.randrange(2) for _ in range(3)]
    roll = rng.random()
    amount = (balance + rng.choice([0, 1]) if roll < 0.1 else  # at the executor's balance, exactly or just above
              rng.randint(1, 10**15) if roll < 0.3 else rng.randint(10**16, 5 * 10**18))
    min_profit = rng.choice([0, 0, 1, 10**14, 10**19])
    gas = 60_000 if rng.random() < 0.05 else 1_000_000
    return _trade(market, symbols, dexes, amount, min_profit, gas)


async def _feed(rpc, sim, start: int, end: int, pools: list[str]) -> None:
    """What the engine's collectors deliver, in their order: each head, then that block's Sync logs."""
    from mevops.engine.collectors.blocks import block_event
    from mevops.engine.collectors.pool_logs import SYNC_TOPIC, sync_event

    logs = await rpc.call("eth_getLogs", [{"address": pools, "topics": [SYNC_TOPIC], "fromBlock": hex(start), "toBlock": hex(end)}])
    for number in range(start, end + 1):
        header = await rpc.call("eth_getBlockByNumber", [hex(number), False])
        mine = [entry for entry in logs if int(entry["blockNumber"], 16) == number]
        # the node's logsBloom announces every pool that logged a Sync (what the simulator waits for)
        assert {entry["address"].lower() for entry in mine} <= sim.announcements.announced(header["logsBloom"])
        sim.on_block(block_event(header))
        for entry in mine:
            sim.on_sync(sync_event(entry))


async def _send_raw(rpc, signer, chain_id: int, to: str, data: bytes, gas: int = 600_000) -> str:
    nonce = int(await rpc.call("eth_getTransactionCount", [signer.address, "pending"]), 16)
    raw, tx_hash = signer.sign({"type": 2, "chainId": chain_id, "nonce": nonce, "to": to, "value": 0, "data": data, "gas": gas,
                                "maxFeePerGas": 10**12, "maxPriorityFeePerGas": 10**9})
    await rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
    return tx_hash


async def _receipt(rpc, tx_hash: str) -> dict:
    for _ in range(200):
        if receipt := await rpc.call("eth_getTransactionReceipt", [tx_hash]):
            return receipt
        await asyncio.sleep(0.01)
    raise AssertionError(f"{tx_hash} was not mined")


async def _random_block(rpc, market, rng, signer, executor, chain_id) -> None:
    """0-3 market swaps, sometimes one of our trades or a withdrawal, all mined in one block."""
    from mevops.contracts.transactions import encode_call
    from mevops.engine.executors.arb_call import execute_calldata

    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        pair = rng.choice(market.pairs)
        zero_in = rng.random() < 0.5
        token_in, token_out = (pair.token0, pair.token1) if zero_in else (pair.token1, pair.token0)
        reserves = await rpc.call("eth_call", [{"to": pair.address, "data": "0x0902f1ac"}, "latest"])
        reserve = int(reserves[2:66] if zero_in else reserves[66:130], 16)
        call = encode_call("UniswapV2Router", "swapExactTokensForTokens", reserve * rng.randint(10, 500) // 10_000, 0,
                           [token_in, token_out], ACTOR, 2**63)
        await rpc.call("eth_sendTransaction", [{"from": ACTOR, "to": market.routers[pair.dex], "data": "0x" + call.hex(),
                                                "gas": hex(300_000)}])
    roll = rng.random()
    if roll < 0.15:  # one of our own trades lands: the executor's balance moves
        trade = _trade(market, ["WETH", "USDC", "WETH"], [rng.randrange(2), rng.randrange(2)], 10**17)
        await _send_raw(rpc, signer, chain_id, executor, execute_calldata(trade))
    elif roll < 0.25:  # the owner withdraws some inventory: the balance drops
        await _send_raw(rpc, signer, chain_id, executor, encode_call("ArbExecutor", "withdraw", market.weth, 10**17, signer.address))
    await rpc.call("evm_mine", [])


async def _dislocate(rpc, market, dex: int = 0, amount: int = 20 * 10**18) -> None:
    """Sell 20 WETH into dex 0's WETH/USDC pool (automine): WETH -> USDC on dex 1 -> WETH on dex 0 pays."""
    from mevops.contracts.transactions import encode_call

    call = encode_call("UniswapV2Router", "swapExactTokensForTokens", amount, 0, [market.weth, market.address("USDC")],
                       ACTOR, 2**63)
    tx_hash = await rpc.call("eth_sendTransaction", [{"from": ACTOR, "to": market.routers[dex], "data": "0x" + call.hex(),
                                                      "gas": hex(300_000)}])
    await _receipt(rpc, tx_hash)  # automine answers before the block is in


async def _balance(rpc, token: str, holder: str) -> int:
    from mevops.contracts.transactions import encode_call

    data = "0x" + encode_call("ERC20", "balanceOf", holder).hex()
    return int(await rpc.call("eth_call", [{"to": token, "data": data}, "latest"]), 16)


async def _setup(url: str, **options):
    from mevops.engine.collectors.rpc import HttpRpc

    rpc, state, signer = HttpRpc(url), DemoState(), _signer()
    market, executor = await setup_market(url, state, signer)
    sim = await _setup_simulator(url, rpc, signer, executor, market, **options)
    return rpc, state, signer, market, executor, sim


async def _setup_simulator(url, rpc, signer, executor, market, **options):
    from mevops.engine.sim.revm import RevmSimulator

    return await RevmSimulator.create(url, signer.address, executor, market.pairs, rpc=rpc, **options)


def test_revm_agrees_with_eth_call_over_random_swaps_blocks_and_reforks(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.executors.arb_call import execute_calldata
        from mevops.engine.executors.mempool import Simulator

        rpc, state, signer, market, executor, sim = await _setup(url, max_fork_age=7, refresh_delay=0.0)
        eth_call = Simulator(rpc, signer.address, executor)
        pools = [p.address for p in market.pairs]
        await rpc.call("evm_setAutomine", [False])
        rng = random.Random(20240607)
        compared = 0
        seen = collections.Counter()
        for _ in range(40):
            start = int(await rpc.call("eth_blockNumber"), 16) + 1
            for _ in range(rng.choice([1, 1, 2, 3])):
                await _random_block(rpc, market, rng, signer, executor, state.chain_id)
            await _feed(rpc, sim, start, int(await rpc.call("eth_blockNumber"), 16), pools)
            await asyncio.sleep(0.05)  # the executor-balance refresh and any re-fork run in the background
            balance = await _balance(rpc, market.weth, executor)
            for _ in range(8):
                trade = _random_trade(market, rng, balance)
                data = execute_calldata(trade)
                want = await eth_call(trade, data)
                got = sim.simulate(data, trade.gas_limit)
                assert got[0] == want[0], (trade, got, want)
                if want[0] or trade.gas_limit >= 1_000_000:  # out-of-gas wording differs between nodes and revm
                    assert got == want, (trade, got, want)
                compared += 1
                seen[want[1].split(": ")[-1] if not want[0] else "ok"] += 1
        await sim.close()
        await rpc.close()
        return compared, seen, sim.stats

    compared, seen, stats = asyncio.run(scenario())
    print(f"compared {compared}: {dict(seen)}; simulator {dict(stats)}")
    assert compared == 320
    assert seen["ok"] >= 40 and seen["unprofitable"] >= 40 and seen["insufficient balance"] >= 5, seen
    assert stats["forks"] >= 5 and stats["refreshes"] >= 20 and stats["fork_errors"] == 0, stats


def test_min_profit_too_high_is_refused_as_unprofitable_by_revm(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.executors.arb_call import execute_calldata

        rpc, _, _, market, _, sim = await _setup(url)
        trade = _trade(market, ["WETH", "USDC", "WETH"], [0, 1], 10**18, min_profit=10**18)
        result = await sim(trade, execute_calldata(trade))
        await sim.close()
        await rpc.close()
        return result, sim.stats

    (ok, reason, profit), stats = asyncio.run(scenario())
    assert not ok and profit is None
    assert reason == "simulation reverted: execution reverted: unprofitable"
    assert stats["revm"] == 1 and not any(k.startswith("fallback") for k in stats)


def test_profitable_cycle_simulates_its_exact_profit(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.demo import read_reserves
        from mevops.engine.dex.v2 import get_amount_out
        from mevops.engine.executors.arb_call import execute_calldata

        rpc, _, _, market, _, sim = await _setup(url)
        start = int(await rpc.call("eth_blockNumber"), 16) + 1
        await _dislocate(rpc, market)
        await _feed(rpc, sim, start, int(await rpc.call("eth_blockNumber"), 16), [p.address for p in market.pairs])
        trade = _trade(market, ["WETH", "USDC", "WETH"], [1, 0], 10**18)
        reserves = await read_reserves(rpc, [market.pair("WETH", "USDC", d) for d in (1, 0)])
        amount = trade.amount_in
        for hop in trade.hops:
            r0, r1 = reserves[hop.pool.lower()]
            amount = get_amount_out(amount, *((r0, r1) if hop.zero_for_one else (r1, r0)), hop.fee_bps)
        result = await sim(trade, execute_calldata(trade))
        await sim.close()
        await rpc.close()
        return result, amount - trade.amount_in, sim.stats

    (ok, reason, profit), expected, stats = asyncio.run(scenario())
    assert expected > 0
    assert ok and reason == "" and profit == expected
    assert stats["revm"] == 1


def test_revm_charges_the_gas_the_chain_charges(start_anvil):
    """Patched state is written at the database level (accesses stay cold) and the simulation runs in
    the next block: the gas of every landing matches the receipt to the unit."""
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.executors.arb_call import execute_calldata

        rpc, state, signer, market, executor, _ = await _setup(url)
        # the pools' price accumulators are written 0 -> nonzero by their first swap after a second has passed
        # (20k gas more, once in a pool's life) and the Syncs do not carry them: make them nonzero first
        for dex in (0, 1):
            head = await rpc.call("eth_getBlockByNumber", ["latest", False])
            await rpc.call("evm_setNextBlockTimestamp", [int(head["timestamp"], 16) + 5])
            await _dislocate(rpc, market, dex=dex, amount=10**15)
        sim = await _setup_simulator(url, rpc, signer, executor, market)
        start = int(await rpc.call("eth_blockNumber"), 16) + 1
        await _dislocate(rpc, market)
        await _feed(rpc, sim, start, int(await rpc.call("eth_blockNumber"), 16), [p.address for p in market.pairs])
        await asyncio.sleep(0.05)
        gas = []
        for _ in range(3):  # the same route again, on the state the previous landing's Syncs patched
            trade = _trade(market, ["WETH", "USDC", "WETH"], [1, 0], 10**18)
            start = int(await rpc.call("eth_blockNumber"), 16) + 1
            ok, _, _ = sim.simulate(execute_calldata(trade), trade.gas_limit)
            simulated = sim.evm.result.gas_used
            # revm simulates in the next block, `interval` seconds on; anvil's automine would give a block mined
            # within the same second the same time (and the accumulators would not move)
            await rpc.call("evm_setNextBlockTimestamp", [sim.head.timestamp + sim.interval])
            receipt = await _receipt(rpc, await _send_raw(rpc, signer, state.chain_id, executor, execute_calldata(trade)))
            gas.append((ok, simulated, int(receipt["gasUsed"], 16), receipt["status"]))
            await _feed(rpc, sim, start, int(await rpc.call("eth_blockNumber"), 16), [p.address for p in market.pairs])
            await asyncio.sleep(0.05)
        await sim.close()
        await rpc.close()
        return gas

    gas = asyncio.run(scenario())
    print(f"(ok, revm gas, receipt gasUsed, status): {gas}")
    assert all(ok and status == "0x1" for ok, _, _, status in gas), gas
    assert all(simulated == used for _, simulated, used, _ in gas), gas


class _Broken:
    """A pyrevm EVM whose calls fail the way a lost fork connection does."""

    def snapshot(self):
        return 0

    def revert(self, checkpoint):
        pass

    def reset_transient_storage(self):
        pass

    def message_call(self, *args, **kwargs):
        raise RuntimeError("Transport(reqwest::Error { kind: Request, source: ConnectionRefused })")

    def insert_account_storage(self, *args):
        raise RuntimeError("Transport(reqwest::Error { kind: Request, source: ConnectionRefused })")


def test_falls_back_to_eth_call_when_revm_raises_is_unsure_unsettled_or_stale(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.demo import read_reserves
        from mevops.engine.executors.arb_call import execute_calldata
        from mevops.engine.executors.mempool import Simulator
        from mevops.engine.types import NewBlock, PoolSync

        rpc, _, signer, market, executor, sim = await _setup(url, settle_timeout=0.02)
        trade = _trade(market, ["WETH", "USDC", "WETH"], [0, 1], 10**18, min_profit=10**18)
        data = execute_calldata(trade)
        want = await Simulator(rpc, signer.address, executor)(trade, data)
        answers = {}
        good, sim.evm = sim.evm, _Broken()
        answers["error"] = await sim(trade, data)
        sim.evm = good
        pool = trade.hops[0].pool.lower()
        slots = sim.layout.pools.pop(pool)
        answers["unpatchable"] = await sim(trade, data)
        sim.layout.pools[pool] = slots
        head = sim.head
        bloom = _bloom_with(pool)  # the next head announces a Sync of the pool that never comes
        sim.on_block(NewBlock(head.number + 1, "0x" + "ab" * 32, head.timestamp + 1, head.base_fee, logs_bloom=bloom))
        answers["unsettled"] = await sim(trade, data)
        sim.on_block(NewBlock(head.number + 2, "0x" + "cd" * 32, head.timestamp + 2, head.base_fee, logs_bloom=""))
        answers["no bloom"] = await sim(trade, data)
        sim.on_block(NewBlock(head.number + 3, "0x" + "ef" * 32, head.timestamp + 3, head.base_fee, logs_bloom="0x" + "00" * 256))
        sim.evm = _Broken()  # a Sync cannot be written: the fork is stale until a new one is built
        reserves = (await read_reserves(rpc, [market.pair("WETH", "USDC", 0)]))[pool]
        sim.on_sync(PoolSync(pool, *reserves, head.number + 3, 0))
        answers["stale"] = await sim(trade, data)
        for _ in range(100):
            if not sim.stale:
                break
            await asyncio.sleep(0.05)
        answers["re-forked"] = await sim(trade, data)
        await sim.close()
        await rpc.close()
        return want, answers, sim.stats

    want, answers, stats = asyncio.run(scenario())
    assert want[0] is False and "unprofitable" in want[1]
    assert all(answer == want for answer in answers.values()), answers
    assert stats["fallback_error"] == stats["fallback_unsettled"] == stats["fallback_unpatchable"] == 1, stats
    assert stats["fallback_no_bloom"] == stats["fallback_stale"] == stats["stale"] == 1, stats
    assert stats["revm"] == 1 and stats["forks"] == 2  # answered by revm again once re-forked


def _bloom_with(pool: str) -> str:
    from mevops.engine.collectors.pool_logs import SYNC_TOPIC
    from mevops.engine.sim.bloom import bloom_bits

    bloom = 0
    for item in (bytes.fromhex(pool[2:]), bytes.fromhex(SYNC_TOPIC[2:])):
        for bit in bloom_bits(item):
            bloom |= 1 << bit
    return "0x" + f"{bloom:0512x}"


def test_storage_layout_is_found_from_the_node(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        rpc, _, _, market, _, sim = await _setup(url)
        await sim.close()
        await rpc.close()
        return market, sim.layout

    market, layout = asyncio.run(scenario())
    # `vyper -f layout`: UniswapV2Pair.packed_reserves is slot 3, ERC20.balanceOf slot 6, WETH9.balanceOf slot 0;
    # Vyper hashes mapping keys as keccak(slot . key)
    assert not layout.unpatchable and len(layout.pools) == len(market.pairs)
    assert {s.reserves for s in layout.pools.values()} == {3}
    assert layout.tokens[market.weth.lower()] == (0, "vyper")
    assert {layout.tokens[t.address.lower()] for s, t in market.tokens.items() if s != "WETH"} == {(6, "vyper")}


def test_a_warm_fork_simulates_without_the_node(start_anvil):
    """Probed routes are fully in the fork: the hot path never waits on a lazy fetch."""
    url, proc = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.executors.arb_call import execute_calldata
        from mevops.engine.sim.revm import RevmSimulator

        rpc, _, signer, market, executor, sim = await _setup(url)
        await _dislocate(rpc, market)
        trades = [_trade(market, ["WETH", "USDC", "WETH"], [0, 1], 10**16), _trade(market, ["WETH", "USDC", "WETH"], [1, 0], 10**16)]
        warm = await RevmSimulator.create(url, signer.address, executor, market.pairs, rpc=rpc,
                                          warm_calls=[execute_calldata(t) for t in trades])
        before = [warm.simulate(execute_calldata(t), t.gas_limit) for t in trades]
        proc.kill()
        proc.wait()
        after = [warm.simulate(execute_calldata(t), t.gas_limit) for t in trades]
        for s in (sim, warm):
            await s.close()
        await rpc.close()
        return before, after

    before, after = asyncio.run(scenario())
    assert before == after and any(ok for ok, _, _ in after)

