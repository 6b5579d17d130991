"""The cycle index against brute-force enumeration; the incremental scanner against full rescans."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mevops.engine.dex import ArbScanner, CycleIndex, Pool, simulate

BASES = ["WETH", "USDC", "DAI"]
TOKENS = BASES + ["X", "Y", "Z"]


def pool(n: int, t0: str, t1: str, r0: int = 10**21, r1: int = 10**21, fee: int = 30) -> Pool:
    return Pool(f"0x{n:040x}", t0, t1, r0, r1, fee, "test")


def brute_cycles(pools: list[Pool], bases: list[str]) -> list[tuple]:
    """Every simple 2- and 3-hop cycle from each base token, as (pools, zero_for_one)."""
    found = []

    def walk(start, token, path, seen):
        for p in pools:
            if token not in (p.token0, p.token1) or p in [q for q, _ in path]:
                continue
            z4o = p.token0 == token
            nxt = p.token1 if z4o else p.token0
            step = [*path, (p, z4o)]
            if nxt == start and len(step) >= 2:
                found.append((tuple(q.address for q, _ in step), tuple(d for _, d in step)))
            elif nxt not in seen and len(step) < 3:
                walk(start, nxt, step, seen | {nxt})

    for base in bases:
        walk(base, base, [], {base})
    return found


def as_key(index: CycleIndex, cid: int) -> tuple:
    cycle = index.cycle(cid)
    return cycle.pools, cycle.zero_for_one


graphs = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from(TOKENS)).filter(lambda t: t[0] != t[1]), min_size=1, max_size=14
)


@settings(max_examples=150, deadline=None)
@given(graphs, st.lists(st.sampled_from(BASES), min_size=1, max_size=3, unique=True))
def test_index_holds_every_cycle_once(pairs, bases):
    pools = [pool(i + 1, a, b) for i, (a, b) in enumerate(pairs)]
    index = CycleIndex(pools, bases)
    listed = [as_key(index, cid) for cid in index.all_cycles()]
    assert len(listed) == len(set(listed)) == len(index)  # no duplicates, count right
    assert sorted(listed) == sorted(brute_cycles(pools, bases))
    for cid in index.all_cycles():  # every cycle starts and ends at a base, tokens chain up
        cycle = index.cycle(cid)
        assert cycle.tokens[0] == cycle.tokens[-1] == cycle.base_token in bases
        assert len(set(cycle.tokens[:-1])) == cycle.hops
    for p in pools:  # pool -> cycles index is exact
        expected = {k for k in listed if p.address in k[0]}
        assert {as_key(index, cid) for cid in index.cycles_of(p.address)} == expected


def test_cycle_shapes_and_directions():
    pools = [pool(1, "WETH", "USDC"), pool(2, "USDC", "WETH"), pool(3, "USDC", "DAI"), pool(4, "DAI", "WETH")]
    index = CycleIndex(pools, ["WETH"])
    tokens = sorted(index.cycle(cid).tokens for cid in index.all_cycles())
    # two 2-hop cycles (p1 then p2, p2 then p1) and 2 x 2 triangles (either WETH/USDC pool, both ways)
    assert tokens.count(("WETH", "USDC", "WETH")) == 2
    assert tokens.count(("WETH", "USDC", "DAI", "WETH")) == 2
    assert tokens.count(("WETH", "DAI", "USDC", "WETH")) == 2
    assert len(index) == 6
    capped = CycleIndex(pools, ["WETH"], max_pools_per_pair=1)
    assert len(capped) == 4 and capped.fanout_capped == 1  # 2-hop cycles keep all pools; triangles the deepest
    rotated = CycleIndex(pools, ["WETH", "USDC"])  # same loops counted again from USDC: other profit token
    assert len(rotated) == 12


# -- scanner ---------------------------------------------------------------------------------

PRICES = {"WETH": 3000.0, "USDC": 1.0, "DAI": 1.0, "X": 7.0, "Y": 0.2, "Z": 45.0}
DECIMALS = {"WETH": 18, "USDC": 6, "DAI": 18, "X": 18, "Y": 9, "Z": 8}


def priced_reserves(rng: random.Random, t0: str, t1: str, usd: float, skew: float) -> tuple[int, int]:
    half = usd / 2
    r0 = half / PRICES[t0] * 10 ** DECIMALS[t0] / math.sqrt(skew)
    r1 = half / PRICES[t1] * 10 ** DECIMALS[t1] * math.sqrt(skew)
    return int(r0) + 1, int(r1) + 1


def eth_price(base: str) -> Fraction:
    return Fraction(PRICES["WETH"]) / Fraction(PRICES[base]) * 10 ** DECIMALS[base] / 10**18


def market(seed: int, n: int = 40) -> tuple[list[Pool], dict[str, float]]:
    rng = random.Random(seed)
    pools, depth = [], {}
    fees = [20, 25, 30, 30, 100]
    while len(pools) < n:
        a, b = rng.sample(TOKENS, 2)
        if rng.random() < 0.6 and "WETH" not in (a, b):
            a = "WETH"
        if a == b:
            continue
        usd = math.exp(rng.uniform(math.log(2e4), math.log(5e7)))
        address = f"0x{len(pools) + 1:040x}"
        pools.append(Pool(address, a, b, *priced_reserves(rng, a, b, usd, 1.0), rng.choice(fees), "t"))
        depth[address] = usd
    return pools, depth


def sync_events(rng: random.Random, pools: list[Pool], depth: dict[str, float], k: int) -> list[tuple[str, int, int]]:
    events = []
    for p in rng.sample(pools, k):
        if rng.random() < 0.15:  # liquidity added or removed (Mint/Burn also end in a Sync)
            depth[p.address] *= rng.choice([0.1, 0.5, 2.0, 10.0, 100.0])
        skew = math.exp(rng.gauss(0, 0.004) if rng.random() < 0.8 else rng.gauss(0, 0.03))
        events.append((p.address, *priced_reserves(rng, p.token0, p.token1, depth[p.address], skew)))
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_scan_equals_full_rescan(seed):
    rng = random.Random(seed)
    pools, depth = market(seed)
    caps = {"USDC": 20_000 * 10**6} if seed == 2 else None
    scanner = ArbScanner(pools, BASES, native_token="WETH", max_input=caps, gas_units_per_hop=50_000)
    base_fee, seen = 20 * 10**9, 0
    for _ in range(40):
        for event in sync_events(rng, pools, depth, rng.randint(0, 6)):
            assert scanner.on_sync(*event)
        base_fee = max(10**8, int(base_fee * rng.choice([0.3, 0.9, 1.0, 1.1, 3.0])))  # gas jumps both ways
        fees = (base_fee, rng.choice([0, 10**9]))
        incremental = scanner.scan(*fees, price=eth_price)
        assert incremental == scanner.full_rescan(*fees, price=eth_price)
        seen += len(incremental)
        for opp in incremental:
            check_opportunity(scanner, opp, fees)
        nets = [o.net_profit for o in incremental]
        assert nets == sorted(nets, reverse=True)
    assert seen > 0  # the market did produce opportunities


def check_opportunity(scanner: ArbScanner, opp, fees) -> None:
    """Integers all the way: replay the swaps through the pools themselves."""
    amount = opp.amount_in
    for address, z4o in zip(opp.cycle.pools, opp.cycle.zero_for_one):
        amount = scanner.state[address].amount_out(amount, z4o)
    assert amount == opp.amount_out
    assert opp.gross_profit == opp.amount_out - opp.amount_in > 0
    gas_wei = (scanner.gas_units_fixed + scanner.gas_units_per_hop * opp.cycle.hops) * sum(fees)
    expected = gas_wei if opp.base_token == "WETH" else math.ceil(gas_wei * eth_price(opp.base_token))
    assert opp.gas_cost == expected
    assert opp.net_profit == opp.gross_profit - opp.gas_cost >= 1
    for x in (opp.amount_in - 1, opp.amount_in + 1):  # the neighbours of the chosen input do no better
        hops = []
        for address, z4o in zip(opp.cycle.pools, opp.cycle.zero_for_one):
            p = scanner.state[address]
            hops.append((p.reserve0, p.reserve1, p.fee_bps) if z4o else (p.reserve1, p.reserve0, p.fee_bps))
        assert simulate(x, hops) - x <= opp.gross_profit + opp.optimality_gap


@pytest.mark.parametrize("first_deepened", [0, 1])
def test_parked_opportunity_found_when_liquidity_arrives(first_deepened):
    into_x = pool(1, "WETH", "X", 10**17, 100 * 10**18)  # X at 0.001 WETH
    x_to_y = pool(2, "X", "Y", 10**24, 10**24)  # X = Y
    out_of_y = pool(3, "Y", "WETH", 100 * 10**18, 103 * 10**15)  # Y at 0.00103 WETH: a 3% gap
    scanner = ArbScanner([into_x, x_to_y, out_of_y], ["WETH"], native_token="WETH")
    assert scanner.scan(20 * 10**9, 10**9) == []  # 0.1 WETH deep: the edge cannot pay for gas
    assert not any(scanner.screen.active)  # the triangle waits on ceilings, incl. reserve depth
    mints = [(into_x.address, 10**20, 100_000 * 10**18), (out_of_y.address, 100_000 * 10**18, 103 * 10**18)]
    if first_deepened:
        mints.reverse()
    scanner.on_sync(*mints[0])  # same prices, 1000x deeper
    assert scanner.scan(20 * 10**9, 10**9) == []
    scanner.on_sync(*mints[1])
    found = scanner.scan(20 * 10**9, 10**9)
    assert found and found == scanner.full_rescan(20 * 10**9, 10**9)
    assert found[0].cycle.tokens == ("WETH", "X", "Y", "WETH")


def test_two_pool_opportunity_is_sized_and_ranked():
    cheap = pool(1, "WETH", "USDC", 1000 * 10**18, 3_000_000 * 10**6)  # 3000 USDC/WETH
    dear = pool(2, "WETH", "USDC", 1000 * 10**18, 3_060_000 * 10**6)  # 3060 USDC/WETH
    scanner = ArbScanner([cheap, dear], ["WETH"], native_token="WETH")
    found = scanner.scan(10 * 10**9, 10**9)
    assert len(found) == 1
    opp = found[0]
    assert opp.cycle.pools == (dear.address, cheap.address)  # sell WETH where it is dear, buy back cheap
    assert opp.cycle.tokens == ("WETH", "USDC", "WETH")
    assert opp.gas_cost == (40_000 + 2 * 60_000) * 11 * 10**9
    assert opp.net_profit == opp.gross_profit - opp.gas_cost > 0
    assert scanner.scan(10 * 10**9, 10**9) == found  # nothing synced: same answer, nothing re-screened
    assert not scanner.screen.last_rescreened
    assert scanner.on_sync(dear.address, 1000 * 10**18, 3_000_000 * 10**6)  # arbitraged away
    assert scanner.scan(10 * 10**9, 10**9) == []
    assert not scanner.on_sync("0x" + "ee" * 20, 1, 1)  # unknown pool: ignored
    with pytest.raises(ValueError, match="price"):
        ArbScanner([cheap, dear], ["USDC"], native_token="WETH").scan(1, 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.booleans())
def test_sync_marks_only_families_through_the_pool(seed, pruning):
    rng = random.Random(seed)
    pools, depth = market(seed % 7 + 10, n=30)
    scanner = ArbScanner(pools, BASES, native_token="WETH", bound_pruning=pruning)
    scanner.scan(10**9, 0, price=eth_price)
    assert not scanner.screen.dirty
    address, r0, r1 = sync_events(rng, pools, depth, 1)[0]
    scanner.on_sync(address, r0, r1)
    touched = set(scanner.index.families_of(address))
    marked = scanner.screen.dirty
    assert marked <= touched  # never a family without a cycle through the pool
    if not pruning:
        assert marked == touched  # every family through the pool; its cycles through the pool are exactly:
        through = {cid for f in marked for cid in scanner.index.members(f) if address in scanner.index.cycle(cid).pools}
        assert through == set(scanner.index.cycles_of(address))
    before = scanner.full_rescan(10**9, 0, price=eth_price)
    assert scanner.scan(10**9, 0, price=eth_price) == before
    assert scanner.screen.last_rescreened >= marked


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**9), st.booleans(), st.sampled_from([None, 1, 2]))
def test_random_sync_sequences_keep_incremental_equal_to_full(seed, pruning, fanout):
    rng = random.Random(seed)
    pools, depth = market(seed % 1000, n=rng.randint(8, 40))
    scanner = ArbScanner(
        pools,
        BASES,
        native_token="WETH",
        bound_pruning=pruning,
        max_pools_per_pair=fanout,
        max_input={"WETH": 10**18} if seed % 3 == 0 else None,
    )
    base_fee = 10**9 * rng.randint(1, 50)
    for _ in range(15):
        for event in sync_events(rng, pools, depth, rng.randint(0, 8)):
            scanner.on_sync(*event)
        if rng.random() < 0.5:  # a block can also just change the gas price
            base_fee = max(1, int(base_fee * rng.choice([0.05, 0.5, 0.95, 1.05, 2.0, 20.0])))
        fees = (base_fee, rng.choice([0, 10**9, 3 * 10**9]))
        floor = rng.choice([1, 1, 10**15])
        assert scanner.scan(*fees, price=eth_price, min_net_profit=floor) == scanner.full_rescan(
            *fees, price=eth_price, min_net_profit=floor
        )
