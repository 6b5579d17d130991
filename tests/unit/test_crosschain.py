"""Cross-chain inventory arbitrage: the strategy on plain events, the executor on a fake RPC."""

from __future__ import annotations

import asyncio

import pytest

from mevops.engine.crosschain import (
    ChainEvent,
    ChainRisk,
    CrossChainArb,
    CrossChainExecutor,
    CrossChainSettings,
    CrossChainStrategy,
    InventoryReport,
    InventorySnapshot,
    LegFilled,
    RebalanceNeeded,
    Venue,
    chain_risk_from_yaml,
)
from mevops.engine.crosschain.executor import TRANSFER_TOPIC, ChainAccess, decode_amounts, encode_swap
from mevops.engine.dex.v2 import get_amount_out
from mevops.engine.types import NewBlock, PoolSync

E18, E6 = 10**18, 10**6
PRICE = 3000 * E6
WETH = {"A": "0x" + "a1" * 20, "B": "0x" + "b1" * 20}
USDC = {"A": "0x" + "a2" * 20, "B": "0x" + "b2" * 20}
POOL = {"A": "0x" + "a3" * 20, "B": "0x" + "b3" * 20}
ROUTER = {"A": "0x" + "a4" * 20, "B": "0x" + "b4" * 20}
SEARCHER = "0x" + "55" * 20


def make(settings: CrossChainSettings | None = None, inventory: dict | None = None, base_fee: int = 10**9):
    s = settings or CrossChainSettings(reference_price=PRICE, min_profit=E6,
                                       target_bps={"WETH": {"A": 5000, "B": 5000}}, drift_threshold_bps=500)
    strat = CrossChainStrategy("x", [Venue(c, POOL[c], ROUTER[c], WETH[c], USDC[c], True, 30) for c in "AB"], s)
    strat.sync_state({"inventory": inventory or {c: {"WETH": 20 * E18, "USDC": 60_000 * E6} for c in "AB"}})
    for c in "AB":
        strat.process_event(ChainEvent(c, NewBlock(1, "0x", 0, base_fee)))
    return strat


def sync(strat, chain: str, weth: int, usdc: int, block: int = 2):
    return strat.process_event(ChainEvent(chain, PoolSync(POOL[chain], weth, usdc, block, 0)))


def test_equal_prices_and_small_gap_emit_nothing():
    strat = make()
    assert sync(strat, "A", 100 * E18, 300_000 * E6) == []
    assert sync(strat, "B", 100 * E18, 300_000 * E6) == []
    assert sync(strat, "B", 100 * E18, 301_500 * E6) == []   # 0.5% gap < 0.6% of fees
    assert sync(strat, "B", 100 * E18, 301_900 * E6) == []   # gap just past fees: profit below min + gas
    assert strat.in_flight == {}


def test_dislocation_emits_buy_cheap_sell_dear_sized_optimally():
    strat = make()
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    assert isinstance(trade, CrossChainArb)
    assert (trade.buy.chain, trade.buy.token_in, trade.buy.token_out) == ("A", USDC["A"], WETH["A"])
    assert (trade.sell.chain, trade.sell.token_in, trade.sell.token_out) == ("B", WETH["B"], USDC["B"])
    w = get_amount_out(trade.buy.amount_in, 300_000 * E6, 100 * E18, 30)
    v = get_amount_out(w, 90 * E18, 333_000 * E6, 30)
    assert trade.buy.expected_out == trade.sell.amount_in == w and trade.sell.expected_out == v
    assert trade.expected_profit == v - trade.buy.amount_in
    assert trade.gas_cost == 2 * (150_000 * 2 * 10**9 * PRICE // E18)
    # the optimum: no nearby size does better (integer V2 math)
    gain = lambda u: strat.quote_gain("A", "B", u)[1]
    u = trade.buy.amount_in
    assert all(gain(u) >= gain(u + d) for d in (-10**6, -1000, -1, 1, 1000, 10**6))
    assert trade.buy.amount_in < 60_000 * E6 and w < 20 * E18    # inventory does not bind here
    # one trade in flight at a time
    assert sync(strat, "B", 90 * E18, 333_000 * E6, 3) == []


def test_inventory_caps_both_sides():
    strat = make(inventory={"A": {"WETH": 20 * E18, "USDC": 1_000 * E6}, "B": {"WETH": 20 * E18, "USDC": 0}})
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    u = trade.buy.amount_in                                     # ~all the quote held on the cheap chain
    assert 1_000 * E6 - 8 <= u <= 1_000 * E6                    # (integer floors make ties near the cap)
    assert strat.quote_gain("A", "B", u)[1] >= strat.quote_gain("A", "B", 1_000 * E6)[1]
    strat = make(inventory={"A": {"WETH": 0, "USDC": 60_000 * E6}, "B": {"WETH": E18 // 10, "USDC": 0}})
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    assert trade.sell.amount_in <= E18 // 10                     # no more base than held on the dear chain
    assert get_amount_out(trade.buy.amount_in + 1, 300_000 * E6, 100 * E18, 30) > E18 // 10
    strat = make(inventory={"A": {"WETH": 0, "USDC": 0}, "B": {"WETH": 20 * E18, "USDC": 0}})
    sync(strat, "A", 100 * E18, 300_000 * E6)
    assert sync(strat, "B", 90 * E18, 333_000 * E6) == []        # nothing to buy with


def test_per_chain_risk_limits():
    base = {"reference_price": PRICE, "min_profit": E6}
    strat = make(CrossChainSettings(**base, risk={"A": ChainRisk(max_position=500 * E6)}))
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    assert trade.buy.amount_in == 500 * E6
    strat = make(CrossChainSettings(**base, risk={"B": ChainRisk(max_position=600 * E6)}))
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    assert trade.sell.amount_in * PRICE // E18 <= 600 * E6
    strat = make(CrossChainSettings(**base, risk={"B": ChainRisk(max_gas_price=5 * 10**9)}), base_fee=10 * 10**9)
    sync(strat, "A", 100 * E18, 300_000 * E6)
    assert sync(strat, "B", 90 * E18, 333_000 * E6) == []        # gas above B's cap: no trade


def test_fills_update_inventory_and_report_drift_and_rebalance():
    strat = make()
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    b, s = trade.buy, trade.sell
    assert strat.process_event(LegFilled(trade.id, "A", "USDC", b.amount_in, "WETH", b.expected_out)) == []
    out = strat.process_event(LegFilled(trade.id, "B", "WETH", s.amount_in, "USDC", s.expected_out))
    report, rebalance = out
    assert isinstance(report, InventoryReport) and isinstance(rebalance, RebalanceNeeded)
    a_weth = 20 * E18 + b.expected_out
    assert strat.inventory["A"] == {"WETH": a_weth, "USDC": 60_000 * E6 - b.amount_in}
    assert strat.inventory["B"] == {"WETH": 20 * E18 - s.amount_in, "USDC": 60_000 * E6 + s.expected_out}
    assert report.value == 2 * 60_000 * E6 + trade.expected_profit + 40 * E18 * PRICE // E18
    drift = a_weth * 10_000 // (40 * E18) - 5000
    assert ("WETH", "A", drift) in report.drift_bps and report.max_drift_bps == drift > 500
    assert (rebalance.asset, rebalance.from_chain, rebalance.to_chain, rebalance.amount) == ("WETH", "A", "B", b.expected_out)
    assert strat.in_flight == {}
    # below the threshold: a report, no rebalance
    strat.process_event(InventorySnapshot("A", "WETH", 21 * E18))
    strat.process_event(InventorySnapshot("B", "WETH", 19 * E18))
    (only,) = strat.reports()
    assert isinstance(only, InventoryReport) and only.max_drift_bps == 250


def test_one_failed_leg_is_exposure_not_a_fill():
    strat = make()
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    strat.process_event(LegFilled(trade.id, "A", "USDC", trade.buy.amount_in, "WETH", trade.buy.expected_out))
    strat.process_event(LegFilled(trade.id, "B", "WETH", 0, "USDC", 0, ok=False))
    assert strat.inventory["B"] == {"WETH": 20 * E18, "USDC": 60_000 * E6}
    assert [f.chain for f in strat.exposure] == ["A"]


def test_events_of_other_pools_and_chains_are_ignored():
    strat = make()
    assert strat.process_event(ChainEvent("C", PoolSync(POOL["A"], 1, 1, 1, 0))) == []
    assert strat.process_event(ChainEvent("A", PoolSync("0x" + "99" * 20, 1, 1, 1, 0))) == []
    assert strat.reserves == {}


def test_risk_from_repo_yaml():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "mev/config/risk-limits.yml"
    risk = chain_risk_from_yaml(path, {"A": "ethereum", "B": "arbitrum"}, E6)
    assert risk["A"] == ChainRisk(1_000_000 * E6, 300 * 10**9, 10 * 10**9)
    assert risk["B"] == ChainRisk(500_000 * E6, 5 * 10**9, 10**9)
    with pytest.raises(KeyError):
        chain_risk_from_yaml(path, {"A": "nowhere"}, E6)


# -- executor on a fake RPC -----------------------------------------------------------------------------
class FakeRpc:
    def __init__(self, out: int, status: int = 1, sim_ok: bool = True) -> None:
        self.out, self.status, self.sim_ok = out, status, sim_ok
        self.sent: list = []

    async def call(self, method: str, params=None):
        if method == "eth_call":
            if not self.sim_ok:
                raise RuntimeError("execution reverted")
            return "0x" + f"{32:064x}{2:064x}{1:064x}{self.out:064x}"
        if method == "eth_sendTransaction":
            self.sent.append(params[0])
            return "0x" + "ab" * 32
        if method == "eth_getTransactionReceipt":
            tx = self.sent[-1]
            token_out = "0x" + tx["data"][-40:]
            log = {"address": token_out, "data": hex(self.out),
                   "topics": [TRANSFER_TOPIC, "0x" + "00" * 32, "0x" + "00" * 12 + SEARCHER[2:]]}
            return {"status": hex(self.status), "gasUsed": hex(100_000), "effectiveGasPrice": hex(10**9),
                    "blockNumber": "0x5", "logs": [log] if self.status else []}
        raise AssertionError(method)


def _trade():
    strat = make()
    sync(strat, "A", 100 * E18, 300_000 * E6)
    (trade,) = sync(strat, "B", 90 * E18, 333_000 * E6)
    return trade


def test_executor_both_legs_fill():
    trade = _trade()
    rpcs = {"A": FakeRpc(trade.buy.expected_out), "B": FakeRpc(trade.sell.expected_out)}
    ex = CrossChainExecutor({c: ChainAccess(r, SEARCHER) for c, r in rpcs.items()})
    result = asyncio.run(ex.execute(trade))
    assert result.status == "mined" and result.realized_profit == trade.expected_profit
    assert [f.ok for f in result.fills] == [True, True] and result.exposure == []
    assert decode_amounts("0x" + f"{32:064x}{2:064x}{7:064x}{9:064x}") == [7, 9]
    assert rpcs["A"].sent[0]["data"] == encode_swap(trade.buy, SEARCHER, 2**63)


def test_executor_reports_exposure_when_one_leg_reverts():
    trade = _trade()
    rpcs = {"A": FakeRpc(trade.buy.expected_out), "B": FakeRpc(trade.sell.expected_out, status=0)}
    result = asyncio.run(CrossChainExecutor({c: ChainAccess(r, SEARCHER) for c, r in rpcs.items()}).execute(trade))
    assert result.status == "partial" and "exposed" in result.reason
    assert result.exposure == [{"chain": "A", "asset_in": "USDC", "amount_in": trade.buy.amount_in, "asset_out": "WETH",
                                "amount_out": trade.buy.expected_out, "tx_hash": "0x" + "ab" * 32}]
    assert [(f.chain, f.ok) for f in result.fills] == [("A", True), ("B", False)]


def test_executor_sends_nothing_when_a_simulation_fails():
    trade = _trade()
    rpcs = {"A": FakeRpc(trade.buy.expected_out), "B": FakeRpc(trade.sell.expected_out, sim_ok=False)}
    result = asyncio.run(CrossChainExecutor({c: ChainAccess(r, SEARCHER) for c, r in rpcs.items()}).execute(trade))
    assert result.status == "simulated_fail" and rpcs["A"].sent == rpcs["B"].sent == []
    assert not any(f.ok for f in result.fills)
    low = {"A": FakeRpc(trade.buy.expected_out - 1), "B": FakeRpc(trade.sell.expected_out)}
    result = asyncio.run(CrossChainExecutor({c: ChainAccess(r, SEARCHER) for c, r in low.items()}).execute(trade))
    assert result.status == "simulated_fail" and low["A"].sent == low["B"].sent == []


def test_runs_in_the_engine_with_fills_fed_back():
    """The strategy and executor plug into the engine unchanged; fills come back as events."""
    from mevops.engine.core import Engine

    strat = make()
    events = [ChainEvent("A", PoolSync(POOL["A"], 100 * E18, 300_000 * E6, 2, 0)),
              ChainEvent("B", PoolSync(POOL["B"], 90 * E18, 333_000 * E6, 2, 0))]
    seen: list = []

    async def scenario():
        fills: asyncio.Queue = asyncio.Queue()

        class Feed:
            name = "feed"

            async def events(self):
                for e in events:
                    yield e
                while True:
                    yield await fills.get()

        probe = _trade()
        rpcs = {"A": FakeRpc(probe.buy.expected_out), "B": FakeRpc(probe.sell.expected_out)}
        ex = CrossChainExecutor({c: ChainAccess(r, SEARCHER) for c, r in rpcs.items()})

        def on_result(action, result):
            seen.append((type(action).__name__, result.status))
            for f in getattr(result, "fills", []):
                fills.put_nowait(f)

        engine = Engine([Feed()], [strat], [ex], on_result=on_result)
        await engine.start()
        for _ in range(200):
            if len(seen) >= 3:
                break
            await asyncio.sleep(0.01)
        await engine.stop()
        return ex

    ex = asyncio.run(scenario())
    assert seen == [("CrossChainArb", "mined"), ("InventoryReport", "reported"), ("RebalanceNeeded", "reported")]
    assert [type(r).__name__ for r in ex.reports] == ["InventoryReport", "RebalanceNeeded"]
