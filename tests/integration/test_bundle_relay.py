"""Bundles end to end on anvil, through ``mevops relay`` (the devnet relay): a mainnet relay cannot be
reached from here, so "talking to a real relay" means talking to this one, over HTTP, signed.

The relay owns block production (automine off): the market is deployed first with automine on,
then the relay takes over. Tests that need to know exactly which block is built when build the
blocks themselves (``relay.build_next()``); the fan-out test runs real ``mevops relay`` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mevops.engine.demo import DEV_ACCOUNTS, WETH_INVENTORY, DemoState, read_reserves, setup_market
from tests.integration.test_engine_e2e import _dislocate, _signer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    url: str
    rpc: Any
    market: Any
    executor: str            # CoinbaseArbExecutor, owned by the searcher, holding WETH_INVENTORY
    plain_executor: str      # ArbExecutor (from setup_market)
    signer: Any
    chain_id: int


async def _world(url: str) -> World:
    from mevops.contracts.coinbase_executor import deploy_coinbase_executor
    from mevops.contracts.devnet import fund
    from mevops.contracts.transactions import connected
    from mevops.engine.collectors.rpc import HttpRpc

    state, signer = DemoState(), _signer()
    market, plain = await setup_market(url, state, signer)
    async with connected(url) as w3:
        executor = await deploy_coinbase_executor(w3, signer.local_account(), market.weth)
        await fund(w3, market.weth, executor, WETH_INVENTORY, sender=DEV_ACCOUNTS[0])
    rpc = HttpRpc(url)
    await _dislocate(rpc, market, 20 * 10**18)  # automine is still on: mined at once
    return World(url, rpc, market, executor, plain, signer, state.chain_id)


async def _best_trade(world: World):
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy
    from mevops.engine.types import NewBlock

    reserves = await read_reserves(world.rpc, world.market.pairs)
    pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps) for p in world.market.pairs]
    weth = world.market.weth.lower()
    strategy = ArbStrategy("arb", pools, ArbSettings("ethereum", [weth], weth, max_input={weth: WETH_INVENTORY}))
    strategy.sync_state({"reserves": reserves})
    head = await world.rpc.call("eth_getBlockByNumber", ["latest", False])
    actions = strategy.process_event(NewBlock(int(head["number"], 16), head["hash"], int(head["timestamp"], 16),
                                              int(head["baseFeePerGas"], 16)))
    assert actions, "the dislocated market offers no arbitrage: the test would prove nothing"
    return actions[0]


async def _relay(url: str, autobuild: bool, block_time: float = 0.5):
    from mevops.engine.bundles.relay.http import RelayServer
    from mevops.engine.bundles.relay.service import DevnetRelay

    server = RelayServer(DevnetRelay(url, block_time=block_time))
    await server.start(autobuild=autobuild)
    return server


def _executor(world: World, relay_urls: list[str], finals: list, **settings):
    from mevops.engine.bundles.auth import FlashbotsAuth
    from mevops.engine.bundles.bribe import BribePolicy
    from mevops.engine.bundles.client import Relays
    from mevops.engine.bundles.executor import BundleExecutor, BundleSettings

    relays = Relays(relay_urls, FlashbotsAuth.random())
    bribe = BribePolicy(settings.pop("mode", "coinbase"), settings.pop("share_bps", 5_000))
    return BundleExecutor(world.rpc, world.signer, world.executor, world.chain_id, relays,
                          settings=BundleSettings(bribe=bribe, **settings), weth=world.market.weth,
                          on_final=lambda action, result: finals.append(result))


@dataclass
class Session:
    world: World
    server: Any
    executor: Any
    finals: list

    @property
    def rpc(self):
        return self.world.rpc


@asynccontextmanager
async def _session(url: str, *, autobuild: bool = False, block_time: float = 0.5,
                   relays: Callable[[], list[str]] | None = None, **settings):
    """The world, then a relay on it (or the relays ``relays()`` starts) and a BundleExecutor; all closed after."""
    world = await _world(url)
    server = await _relay(url, autobuild, block_time) if relays is None else None
    finals: list = []
    executor = _executor(world, relays() if relays is not None else [server.url], finals, **settings)
    try:
        yield Session(world, server, executor, finals)
    finally:
        await executor.close()
        await executor.relays.close()
        if server is not None:
            await server.stop()
        await world.rpc.close()


async def _balance(rpc, address: str, block: int | str = "latest") -> int:
    return int(await rpc.call("eth_getBalance", [address, block if isinstance(block, str) else hex(block)]), 16)


async def _nonce(rpc, address: str) -> int:
    return int(await rpc.call("eth_getTransactionCount", [address, "latest"]), 16)


async def _weth_balance(world: World, holder: str) -> int:
    from mevops.contracts.transactions import encode_call

    data = "0x" + encode_call("ERC20", "balanceOf", holder).hex()
    return int(await world.rpc.call("eth_call", [{"to": world.market.weth, "data": data}, "latest"]), 16)


# -- a profitable bundle lands in its target block and pays coinbase -------------------------------------
def test_arbitrage_bundle_lands_in_its_target_block_and_pays_coinbase(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url, blocks_ahead=3, share_bps=5_000) as s:
            trade = await _best_trade(s.world)
            weth_before = await _weth_balance(s.world, s.world.executor)
            nonce_before = await _nonce(s.rpc, s.world.signer.address)
            sent = await s.executor.execute(trade)
            sub = s.executor.submissions[trade.id]
            built = await s.server.relay.build_next()
            await s.executor.drain(10)
            coinbase = s.server.relay.coinbase
            return dict(sent=sent, sub=sub, built=built, finals=s.finals, trade=trade,
                        block=await s.rpc.call("eth_getBlockByNumber", [hex(built.number), False]),
                        receipt=await s.rpc.call("eth_getTransactionReceipt", [sent.tx_hash]),
                        paid=await _balance(s.rpc, coinbase, built.number) - await _balance(s.rpc, coinbase, built.number - 1),
                        status=await _relay_status(s.executor, sub.raw),
                        weth_gain=await _weth_balance(s.world, s.world.executor) - weth_before,
                        nonce_used=await _nonce(s.rpc, s.world.signer.address) - nonce_before)

    r = asyncio.run(scenario())
    trade, sub, receipt = r["trade"], r["sub"], r["receipt"]
    assert r["sent"].status == "sent" and sub.accepted == 1
    assert r["built"].number == sub.blocks[0]                       # the first target block
    assert [b.bundle.hash for b in r["built"].included] and r["block"]["transactions"] == [r["sent"].tx_hash]
    first = r["status"][sub.blocks[0]]
    assert first["status"] == "included" and first["includedBlock"] == hex(sub.blocks[0])
    assert {r["status"][b]["status"] for b in sub.blocks[1:]} == {"pending"}  # later copies wait (their nonce is used now)
    final = r["finals"][0]
    assert final.status == "mined" and final.block == sub.blocks[0]
    bribe = (trade.expected_profit - trade.gas_cost) * 5_000 // 10_000
    assert sub.bribe_wei == bribe > 0 and sub.coinbase_paid == bribe
    assert final.realized_profit == trade.expected_profit - bribe    # V2 math is exact; the bribe came out of it
    assert r["weth_gain"] == final.realized_profit
    tip = int(receipt["effectiveGasPrice"], 16) - int(r["block"]["baseFeePerGas"], 16)
    assert r["paid"] == bribe + int(receipt["gasUsed"], 16) * tip  # coinbase got the bribe and the priority fees
    assert r["nonce_used"] == 1


async def _relay_status(executor, *txs: bytes) -> dict:
    """The relay's own account of a bundle (mevops_bundleStatus), asked like any signed request."""
    from mevops.engine.bundles import requests

    body = requests.body("mevops_bundleStatus", [requests.Bundle(txs, 0).hash])
    reply = await executor.relays.clients[0].post(body, executor.relays.auth.header(body))
    assert reply.ok, reply.error
    return {int(b["blockNumber"], 16): b for b in reply.result["blocks"]}


def _sign(key: str, chain_id: int, nonce: int, to: str, data: bytes = b"", value: int = 0, gas: int = 200_000) -> bytes:
    from eth_account import Account

    tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "to": to, "value": value, "data": data, "gas": gas,
          "maxFeePerGas": 50 * 10**9, "maxPriorityFeePerGas": 10**9}
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


ACTOR_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil dev account #2 (public test key)


def _reverting_bundle(world: World, nonce: int, block: int):
    """Two transactions of dev account #2: a harmless transfer, then a call that reverts ("not owner")."""
    from mevops.contracts.transactions import encode_call
    from mevops.engine.bundles.requests import Bundle

    fine = _sign(ACTOR_KEY, world.chain_id, nonce, DEV_ACCOUNTS[1], value=1, gas=21_000)
    bad = _sign(ACTOR_KEY, world.chain_id, nonce + 1, world.plain_executor,
                encode_call("ArbExecutor", "withdraw", world.market.weth, 1, DEV_ACCOUNTS[2]))
    return Bundle((fine, bad), block)


async def _receipts(rpc, hashes) -> list:
    return [await rpc.call("eth_getTransactionReceipt", [h]) for h in hashes]


# -- a reverting bundle is not included at all ----------------------------------------------------------------
def test_bundle_with_a_reverting_tx_is_left_out_entirely(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url) as s:
            nonce = await _nonce(s.rpc, DEV_ACCOUNTS[2])
            bundle = _reverting_bundle(s.world, nonce, s.server.relay.head + 1)
            replies = await s.executor.relays.send_bundle(bundle)
            built = await s.server.relay.build_next()
            return dict(replies=replies, built=built, bundle=bundle, nonce=nonce,
                        block=await s.rpc.call("eth_getBlockByNumber", [hex(built.number), False]),
                        status=await _relay_status(s.executor, *bundle.txs),
                        nonce_after=await _nonce(s.rpc, DEV_ACCOUNTS[2]), receipts=await _receipts(s.rpc, bundle.tx_hashes))

    r = asyncio.run(scenario())
    assert r["replies"][0].ok                                   # the relay took it...
    assert not r["built"].included and r["block"]["transactions"] == []   # ...and left all of it out
    assert r["receipts"] == [None, None] and r["nonce_after"] == r["nonce"]
    entry = r["status"][r["bundle"].block]
    assert entry["status"] == "failed" and "not owner" in entry["reason"] and entry["reason"].startswith("simulation")


def test_a_revert_the_simulation_missed_is_undone_with_the_snapshot(start_anvil, monkeypatch):
    """With the pre-simulation switched off, the reverting bundle reaches the real block: the relay
    must see the revert there, evm_revert the block, and build it again with the good bundle only;
    the public transaction it set aside meanwhile lands in the next block (not lost)."""
    from mevops.engine.bundles.relay import builder
    from mevops.engine.bundles.relay.simulation import BundleSimulation

    async def blind(rpc, txs, block, *args, **kwargs):
        return BundleSimulation(block)  # "all fine": no check at all

    monkeypatch.setattr(builder, "simulate", blind)
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url, blocks_ahead=1) as s:
            nonce = await _nonce(s.rpc, DEV_ACCOUNTS[2])
            bad = _reverting_bundle(s.world, nonce, s.server.relay.head + 1)
            await s.executor.relays.send_bundle(bad)                # first in: tried first (equal value)
            sent = await s.executor.execute(await _best_trade(s.world))
            public = await s.rpc.call("eth_sendTransaction", [{"from": DEV_ACCOUNTS[0], "to": DEV_ACCOUNTS[1], "value": "0x7"}])
            built = await s.server.relay.build_next()
            head = int(await s.rpc.call("eth_blockNumber"), 16)
            block = await s.rpc.call("eth_getBlockByNumber", [hex(built.number), False])
            await s.server.relay.build_next()
            await s.executor.drain(10)
            return dict(built=built, block=block, sent=sent, bad=bad, nonce=nonce, finals=s.finals, head=head,
                        nonce_after=await _nonce(s.rpc, DEV_ACCOUNTS[2]), bad_receipts=await _receipts(s.rpc, bad.tx_hashes),
                        public=await s.rpc.call("eth_getTransactionReceipt", [public]),
                        status=await _relay_status(s.executor, *bad.txs))

    r = asyncio.run(scenario())
    assert r["head"] == r["built"].number                       # the undone attempt left no block behind
    assert r["block"]["transactions"] == [r["sent"].tx_hash]    # the good bundle only
    assert [s.bundle.hash for s in r["built"].failed] == [r["bad"].hash]
    assert "reverted" in r["status"][r["bad"].block]["reason"]
    assert r["bad_receipts"] == [None, None] and r["nonce_after"] == r["nonce"]   # nothing partial
    assert r["finals"][0].status == "mined" and r["finals"][0].block == r["built"].number
    assert r["public"] is not None and int(r["public"]["blockNumber"], 16) == r["built"].number + 1


# -- cancel and replace by uuid --------------------------------------------------------------------------------
def test_cancel_by_uuid_before_the_target_block_prevents_inclusion(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url, blocks_ahead=2) as s:
            nonce = await _nonce(s.rpc, s.world.signer.address)
            trade = await _best_trade(s.world)
            sent = await s.executor.execute(trade)
            sub = s.executor.submissions[trade.id]
            cancels = await s.executor.cancel(trade.id)
            for _ in sub.blocks:
                await s.server.relay.build_next()
            await s.executor.drain(10)
            return dict(sent=sent, sub=sub, cancels=cancels, finals=s.finals, nonce=nonce,
                        nonce_after=await _nonce(s.rpc, s.world.signer.address),
                        receipt=await s.rpc.call("eth_getTransactionReceipt", [sent.tx_hash]),
                        status=await _relay_status(s.executor, sub.raw))

    r = asyncio.run(scenario())
    assert r["sent"].status == "sent"
    assert len(r["cancels"]) == 2 and all(c.ok and c.result is True for c in r["cancels"])  # one uuid per target block
    assert {entry["status"] for entry in r["status"].values()} == {"cancelled"}
    assert r["receipt"] is None and r["nonce_after"] == r["nonce"]
    assert r["finals"][0].status == "not_included" and r["finals"][0].reason.startswith("cancelled")


def test_replace_by_uuid_lands_the_new_bundle_only(start_anvil):
    import dataclasses

    from mevops.engine.bundles.bribe import BribePolicy

    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url, blocks_ahead=2, share_bps=1_000) as s:
            trade = await _best_trade(s.world)
            first = await s.executor.execute(trade)
            old = s.executor.submissions[trade.id]
            s.executor.settings = dataclasses.replace(s.executor.settings, bribe=BribePolicy("coinbase", 9_000))  # outbid
            second = await s.executor.replace(trade.id, trade)
            new = s.executor.submissions[trade.id]
            built = await s.server.relay.build_next()
            await s.server.relay.build_next()
            await s.executor.drain(10)
            return dict(first=first, second=second, old=old, new=new, finals=s.finals, trade=trade,
                        block=await s.rpc.call("eth_getBlockByNumber", [hex(built.number), False]),
                        old_status=await _relay_status(s.executor, old.raw))

    r = asyncio.run(scenario())
    assert r["first"].tx_hash != r["second"].tx_hash and r["old"].uuid == r["new"].uuid
    assert {entry["status"] for entry in r["old_status"].values()} == {"replaced"}
    assert r["block"]["transactions"] == [r["second"].tx_hash]
    assert [f.status for f in r["finals"]] == ["mined"]                 # the replaced one reports nothing
    trade = r["trade"]
    assert r["new"].coinbase_paid == (trade.expected_profit - trade.gas_cost) * 9_000 // 10_000


# -- priority-fee bribe and eth_callBundle ---------------------------------------------------------------------
def test_priority_fee_bribe_and_call_bundle(start_anvil):
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        async with _session(url, mode="priority", share_bps=8_000, call_bundle=True) as s:
            s.executor.executor = s.world.plain_executor                 # priority fees need no special contract
            trade = await _best_trade(s.world)
            head = int(await s.rpc.call("eth_blockNumber"), 16)
            sent = await s.executor.execute(trade)
            sub = s.executor.submissions[trade.id]
            simulated = await s.executor.relays.call_bundle([sub.raw], head + 1)
            coinbase = s.server.relay.coinbase
            unchanged = (int(await s.rpc.call("eth_blockNumber"), 16), await _balance(s.rpc, coinbase))
            built = await s.server.relay.build_next()
            await s.executor.drain(10)
            return dict(sent=sent, sub=sub, simulated=simulated, unchanged=unchanged, head=head, finals=s.finals, trade=trade,
                        receipt=await s.rpc.call("eth_getTransactionReceipt", [sent.tx_hash]),
                        block=await s.rpc.call("eth_getBlockByNumber", [hex(built.number), False]),
                        paid=await _balance(s.rpc, coinbase) - unchanged[1])

    r = asyncio.run(scenario())
    trade, sub, receipt = r["trade"], r["sub"], r["receipt"]
    bribe = (trade.expected_profit - trade.gas_cost) * 8_000 // 10_000
    assert sub.bribe_wei == bribe and sub.priority_fee > trade.max_priority_fee_per_gas
    gas_used = int(receipt["gasUsed"], 16)
    tip = int(receipt["effectiveGasPrice"], 16) - int(r["block"]["baseFeePerGas"], 16)
    assert tip == sub.priority_fee and r["paid"] == gas_used * tip
    assert bribe - gas_used < r["paid"] <= bribe                      # the bribe, over the gas the relay measured
    assert r["finals"][0].status == "mined" and r["finals"][0].realized_profit == trade.expected_profit
    # eth_callBundle: the relay simulated the same bundle without mining anything
    sim = r["simulated"]
    assert sim.ok and r["unchanged"][0] == r["head"] and r["unchanged"][1] == 0
    (result,) = sim.result["results"]
    assert result["txHash"] == r["sent"].tx_hash and "error" not in result and result["gasUsed"] == gas_used
    assert int(sim.result["coinbaseDiff"]) == r["paid"] and sim.result["ethSentToCoinbase"] == "0"


# -- fan-out: two relay processes, one down --------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_relay_process(rpc_url: str, port: int) -> subprocess.Popen:
    """``mevops relay`` as a process; returns once it answers HTTP."""
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "relay", "--rpc", rpc_url, "--port", str(port),
                             "--block-time", "0.5", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}", content=b"{}", timeout=0.5)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(f"mevops relay exited: {proc.stderr.read()}")
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("mevops relay did not start")


def test_fan_out_to_two_relays_with_one_down_still_lands(start_anvil):
    url, _ = start_anvil(chain_id=31337)
    other_url, _ = start_anvil(chain_id=31337)
    down_port, up_port = _free_port(), _free_port()
    down = _start_relay_process(other_url, down_port)
    down.send_signal(signal.SIGTERM)                                  # a relay that was up, and is now down
    _, down_err = down.communicate(timeout=30)
    processes: list[subprocess.Popen] = []

    def relays() -> list[str]:                                        # started once the market is deployed
        processes.append(_start_relay_process(url, up_port))
        return [f"http://127.0.0.1:{down_port}", f"http://127.0.0.1:{up_port}"]

    async def scenario():
        async with _session(url, relays=relays, blocks_ahead=4) as s:
            trade = await _best_trade(s.world)
            sent = await s.executor.execute(trade)
            sub = s.executor.submissions.get(trade.id)
            await s.executor.drain(20)
            return dict(sent=sent, sub=sub, finals=s.finals)

    try:
        r = asyncio.run(scenario())
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGTERM)
    up_out, up_err = processes[0].communicate(timeout=30)
    assert down.returncode == 0 and processes[0].returncode == 0, down_err + up_err
    sub = r["sub"]
    assert r["sent"].status == "sent", r["sent"].reason
    assert sub.accepted == 1
    assert all(not replies[0].ok and replies[0].code is None for replies in sub.replies)   # relay 1: connection refused
    assert all(replies[1].ok for replies in sub.replies)
    assert r["finals"][0].status == "mined" and r["finals"][0].block in sub.blocks
    summary = json.loads(up_out)
    assert summary["bundles"].get("included") == 1 and summary["blocks_built"] >= 1


# -- the engine with BundleExecutor in place of MempoolExecutor ----------------------------------------------
def test_engine_trades_through_bundles_instead_of_the_mempool(start_anvil):
    """Collectors → ArbStrategy → BundleExecutor, the relay building a block every 0.5 s: the
    dislocation is traded, lands, and the executor's WETH grows by exactly what it reported."""
    url, _ = start_anvil(chain_id=31337)

    async def scenario():
        from mevops.engine.collectors.blocks import BlockCollector
        from mevops.engine.collectors.pool_logs import PoolLogCollector
        from mevops.engine.core import Engine
        from mevops.engine.dex.v2 import Pool
        from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy

        async with _session(url, autobuild=True, blocks_ahead=2) as s:
            reserves = await read_reserves(s.rpc, s.world.market.pairs)
            pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps) for p in s.world.market.pairs]
            weth = s.world.market.weth.lower()
            strategy = ArbStrategy("arb", pools, ArbSettings("ethereum", [weth], weth, max_input={weth: WETH_INVENTORY}))
            strategy.sync_state({"reserves": reserves})
            ws = url.replace("http", "ws")
            engine = Engine([BlockCollector(s.rpc, ws), PoolLogCollector(s.rpc, [p.address for p in pools], ws)],
                            [strategy], [s.executor])
            weth_before = await _weth_balance(s.world, s.world.executor)
            await engine.start()
            for _ in range(100):
                await asyncio.sleep(0.1)
                if any(f.status == "mined" for f in s.finals):
                    break
            await engine.stop()
            await s.executor.drain(10)
            return dict(finals=s.finals, gain=await _weth_balance(s.world, s.world.executor) - weth_before)

    r = asyncio.run(scenario())
    mined = [f for f in r["finals"] if f.status == "mined"]
    assert mined, [(f.status, f.reason) for f in r["finals"]]
    assert all(f.status in ("mined", "not_included") for f in r["finals"])  # competing bundles share the nonce
    assert r["gain"] == sum(f.realized_profit for f in mined) > 0
