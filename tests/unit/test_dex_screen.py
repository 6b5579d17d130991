"""The incremental family screen's own machinery, white-box and against the full rescan: per-hop
triggers, Syncs applied at the next scan, depth caps kept across screens, members waiting for
cheaper gas, heap pruning, one price() call per base token."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mevops.engine.dex import ArbScanner
from mevops.engine.dex.families import FIRST, LAST, MIDDLE
from tests.unit.test_dex_cycles import BASES, check_opportunity, eth_price, market, pool, sync_events


def live_top(heap: list[tuple[float, int, int]], versions) -> float:
    return min((c for c, family, seen in heap if seen == versions[family]), default=math.inf)


def assert_screen_invariants(scanner: ArbScanner) -> None:
    """Every hop triggers at or below the live ceilings of its legs, live depth caps are where the
    families say, and no heap outgrows its room."""
    fs = scanner.screen
    for links in fs.pool_links:
        for leg, hop, kind in links:
            assert fs.rate_trigger[hop] <= live_top(fs.rate_ceilings[leg], fs.version)
            if kind == MIDDLE:
                continue
            top = live_top(fs.depth_caps[leg], fs.cap_version[kind])
            if kind == FIRST:  # on its own input reserve: depth rIn/γ reaches D when rIn reaches D·γ
                assert fs.reserve_trigger[hop] <= top * fs.leg_gamma[leg]
            else:  # on the reserve it pays out
                assert fs.reserve_trigger[hop ^ 1] <= top
    for kind, (caps, versions) in enumerate(zip(fs.cap, fs.cap_version)):
        for family, cap in enumerate(caps):
            if cap > 0.0:
                leg = fs.fam[family][0 if kind == FIRST else 2]
                assert (cap, family, versions[family]) in fs.depth_caps[leg]
    for leg, room in enumerate(fs.leg_room):
        assert len(fs.rate_ceilings[leg]) <= room and len(fs.depth_caps[leg]) <= room
    assert all(len(heap) <= room for heap, room in zip(fs.parked, fs.parked_room))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**9))
def test_triggers_caps_and_heaps_stay_consistent(seed):
    rng = random.Random(seed)
    pools, depth = market(seed % 500, n=rng.randint(10, 40))
    scanner = ArbScanner(pools, BASES, native_token="WETH", gas_units_per_hop=50_000)
    base_fee = 10**9 * rng.randint(1, 40)
    for _ in range(30):
        for event in sync_events(rng, pools, depth, rng.randint(0, 8)):  # 15% of them: liquidity ×0.1…×100
            scanner.on_sync(*event)
        if rng.random() < 0.4:
            base_fee = max(1, int(base_fee * rng.choice([0.1, 0.5, 0.9, 1.1, 2.0, 10.0])))
        fees = (base_fee, 10**9)
        found = scanner.scan(*fees, price=eth_price)
        assert found == scanner.full_rescan(*fees, price=eth_price)
        for opp in found:
            check_opportunity(scanner, opp, fees)
        assert_screen_invariants(scanner)


def test_heaps_are_pruned_heap_by_heap():
    rng = random.Random(5)
    pools, depth = market(5, n=40)
    scanner = ArbScanner(pools, BASES, native_token="WETH")
    fs = scanner.screen
    fs.leg_room = [4] * len(fs.leg_room)  # tiny rooms: pruning runs often
    fs.parked_room = [4] * len(fs.parked_room)
    pruned, prune = [], fs._prune
    fs._prune = lambda heap, versions: (pruned.append(len(heap)), prune(heap, versions))
    per_group = [fs.ix.group.count(g) for g in range(len(fs.parked))]
    for _ in range(60):
        for event in sync_events(rng, pools, depth, 10):
            scanner.on_sync(*event)
        fees = (10**9 * rng.randint(1, 60), 10**9)
        assert scanner.scan(*fees, price=eth_price) == scanner.full_rescan(*fees, price=eth_price)
        for leg, families in enumerate(fs.ix.leg_families):  # a family has one live entry a heap at most
            assert len(fs.rate_ceilings[leg]) <= max(4, len(families))
            assert len(fs.depth_caps[leg]) <= max(4, len(families))
        assert all(len(heap) <= max(4, n) for heap, n in zip(fs.parked, per_group))
    assert len(pruned) > 50


def test_syncs_between_scans_are_applied_at_the_next_scan():
    rng = random.Random(11)
    pools, depth = market(11, n=30)
    scanner = ArbScanner(pools, BASES, native_token="WETH")
    scanner.scan(10**9, 0, price=eth_price)
    assert not scanner.screen.dirty
    p = pools[3]
    before = (scanner.state[p.address].reserve0, scanner.state[p.address].reserve1)
    for skew in (1.05, 0.9, 1.2):  # the same pool synced again and again, up and down, before one scan
        scanner.on_sync(p.address, *[int(r * skew) for r in before])
        assert scanner.state[p.address].reserve0 == int(before[0] * skew)  # reserves are current at once
    assert scanner.screen.synced  # rates and marks wait for the scan...
    marked = scanner.screen.dirty  # ...or for a look at what is marked
    assert not scanner.screen.synced
    assert marked <= set(scanner.index.families_of(p.address))
    for _ in range(5):
        for event in sync_events(rng, pools, depth, 6) + sync_events(rng, pools, depth, 6):  # pools repeat
            scanner.on_sync(*event)
        assert scanner.scan(10**9, 0, price=eth_price) == scanner.full_rescan(10**9, 0, price=eth_price)


def test_member_waiting_for_gas_is_found_when_gas_falls():
    cheap = pool(1, "WETH", "USDC", 1000 * 10**18, 3_000_000 * 10**6)
    dear = pool(2, "WETH", "USDC", 1000 * 10**18, 3_030_000 * 10**6)  # a 1% gap: ~0.002 WETH gross
    scanner = ArbScanner([cheap, dear], ["WETH"], native_token="WETH")
    assert scanner.scan(50 * 10**9, 0) == []  # gas eats it...
    assert scanner.screen.active[0]  # ...but the family's profit bound could pay: its members were looked at
    found = scanner.scan(5 * 10**9, 0)  # no Sync: only cheaper gas
    assert found and found == scanner.full_rescan(5 * 10**9, 0)
    assert scanner.scan(50 * 10**9, 0) == [] == scanner.full_rescan(50 * 10**9, 0)  # the sizing stays, gas filters
    assert scanner.scan(5 * 10**9, 0) == found


def test_depth_caps_are_kept_while_liquidity_moves_a_little_and_reached_when_it_grows_more():
    into_x = pool(1, "WETH", "X", 10**17, 100 * 10**18)  # X at 0.001 WETH
    x_to_y = pool(2, "X", "Y", 10**24, 10**24)
    out_of_y = pool(3, "Y", "WETH", 100 * 10**18, 103 * 10**15)  # a 3% gap, 0.1 WETH deep
    scanner = ArbScanner([into_x, x_to_y, out_of_y], ["WETH"], native_token="WETH")
    fees, fs = (20 * 10**9, 10**9), scanner.screen

    def caps() -> list[float]:
        return [fs.cap[FIRST][0], fs.cap[LAST][0]]  # of family 0: WETH → X → Y → WETH

    def sync(scale: float, gap: float = 1.03) -> list:
        scanner.on_sync(into_x.address, int(10**17 * scale), int(100 * 10**18 * scale))
        scanner.on_sync(out_of_y.address, int(103 * 10**18 * scale / gap), int(103 * 10**15 * scale))  # fewer Y: dearer
        found = scanner.scan(*fees)
        assert found == scanner.full_rescan(*fees)
        return found

    assert scanner.scan(*fees) == [] and not fs.active[0]
    first = caps()
    assert all(cap > 0.0 for cap in first)
    assert sync(1.1) == [] and not fs.last_rescreened  # 10% deeper: under the caps, nothing to look at
    assert sync(1.1, gap=1.10) == [] and 0 in fs.last_rescreened  # a wider gap reaches a rate ceiling...
    assert caps() == first  # ...and the caps in force are kept: still 1.1–1.4× the reserves
    assert sync(0.8, gap=1.10) == [] and not fs.last_rescreened  # shallower: nothing can have grown
    assert sync(0.8, gap=1.15) == [] and 0 in fs.last_rescreened and not fs.active[0]
    assert all(cap < old for cap, old in zip(caps(), first))  # caps 1.56× the reserves: set anew, lower
    scale, seen = 0.8, []
    while not seen and scale < 1e6:
        scale *= 1.15  # both ends deepen at the same prices: caps are reached, the bound grows with them
        seen = sync(scale, gap=1.15)
    assert seen and seen[0].cycle.tokens == ("WETH", "X", "Y", "WETH")


def test_price_is_asked_once_per_base_token_and_scan():
    pools, _ = market(3, n=30)
    asked: list[str] = []

    def price(base: str) -> Fraction:
        asked.append(base)
        return eth_price(base)

    scanner = ArbScanner(pools, BASES, native_token="WETH")
    scanner.scan(10**9, 0, price=price)
    assert sorted(asked) == sorted(b for b in BASES if b != "WETH")


@pytest.mark.parametrize("drained", [0, 1])  # a leg of its own, or the middle hop
def test_families_screened_while_a_pool_is_empty_reopen_when_it_fills(drained):
    reserves = [(1000 * 10**18, 3_000_000 * 10**6), (10**12, 10**24), (3_000_000 * 10**18, 1000 * 10**18)]
    filled = reserves[drained]
    reserves[drained] = (0, 0)
    pools = [pool(n, *pair, *reserves[n]) for n, pair in enumerate([("WETH", "USDC"), ("USDC", "DAI"), ("DAI", "WETH")])]
    scanner = ArbScanner(pools, ["WETH"], native_token="WETH")
    fees = (10 * 10**9, 10**9)
    assert scanner.scan(*fees) == []  # every triangle screened with a zero factor
    for p, pair in zip(pools, reserves):  # Syncs that leave the pool empty and the others as they were
        scanner.on_sync(p.address, *pair)
    assert scanner.scan(*fees) == [] and not scanner.screen.last_rescreened  # open nothing
    scanner.on_sync(pools[drained].address, filled[0], filled[1] * 105 // 100)  # filled, 5% off
    found = scanner.scan(*fees)
    assert found and found == scanner.full_rescan(*fees)
