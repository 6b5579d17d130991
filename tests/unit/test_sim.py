"""SimFeed (heads held until the Syncs their bloom announces), bloom reading, pyrevm outcome wording."""

from __future__ import annotations

import pytest

from mevops.engine.collectors.pool_logs import SYNC_TOPIC
from mevops.engine.sim.bloom import SyncAnnouncements, bloom_bits
from mevops.engine.sim.feed import SimFeed
from mevops.engine.sim.outcome import call_outcome, revert_reason
from mevops.engine.types import NewBlock, PendingTx, PoolSync

A, B, C = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20


def bloom(*items: str) -> str:
    value = 0
    for item in items:
        for bit in bloom_bits(bytes.fromhex(item[2:])):
            value |= 1 << bit
    return "0x" + f"{value:0512x}"


def head(n: int, *logged: str, at: float = 0.0) -> NewBlock:
    return NewBlock(n, f"0x{n:064x}", 1000 + n, 10**9, received_at=at, logs_bloom=bloom(*logged, SYNC_TOPIC) if logged else bloom())


def sync(pool: str, n: int, i: int = 0, at: float = 0.0) -> PoolSync:
    return PoolSync(pool, 1, 2, n, i, received_at=at)


class Recorder:
    """A strategy that records what it is given and trades on every head."""

    name = "inner"

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def sync_state(self, snapshot: object) -> None:
        self.seen.append(("state", 0))

    def process_event(self, event):
        if isinstance(event, NewBlock):
            self.seen.append(("head", event.number))
            return [f"trade@{event.number}"]
        if isinstance(event, PoolSync):
            self.seen.append((f"sync {event.pool[:4]}", event.block))
        return []


class Simulator:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def on_sync(self, event: PoolSync) -> None:
        self.calls.append(("sync", event.block))
        if self.fail:
            raise RuntimeError("fork lost")

    def on_block(self, event: NewBlock) -> None:
        self.calls.append(("head", event.number))


def test_a_head_waits_for_the_syncs_its_bloom_announces():
    inner, sim = Recorder(), Simulator()
    feed = SimFeed(inner, [A, B, C], sim)
    assert feed.process_event(head(5, A, B)) == []
    assert feed.process_event(sync(A, 5)) == []
    assert feed.process_event(sync(B, 5, 1)) == ["trade@5"]
    assert inner.seen == [("sync 0xaa", 5), ("sync 0xbb", 5), ("head", 5)]   # the strategy scans settled reserves
    assert sim.calls == [("head", 5), ("sync", 5), ("sync", 5)]             # the simulator heard everything first
    assert feed.stats["held"] == 1 and feed.stats["released_settled"] == 1


def test_a_head_after_its_syncs_or_without_tracked_logs_passes_at_once():
    inner = Recorder()
    feed = SimFeed(inner, [A, B])
    feed.process_event(sync(A, 7))
    assert feed.process_event(head(7, A)) == ["trade@7"]       # its Sync came first (logs sometimes win the race)
    assert feed.process_event(head(8)) == ["trade@8"]          # nothing logged
    assert feed.process_event(head(9, C)) == ["trade@9"]       # only an untracked pool logged
    unknown = NewBlock(10, "0x" + "10" * 32, 1010, 10**9)      # no bloom: nothing to wait for
    assert feed.process_event(unknown) == ["trade@10"]
    assert feed.stats["passed"] == 4


def test_a_held_head_is_released_by_the_next_head_or_after_max_hold():
    inner = Recorder()
    feed = SimFeed(inner, [A, B], max_hold=3600)
    feed.process_event(head(5, A))              # a bloom false positive: A never logs in 5
    assert feed.process_event(head(6, B)) == ["trade@5"]
    assert feed.stats["released_superseded"] == 1 and feed.held is not None and feed.held.number == 6
    feed.max_hold = 0.0
    assert feed.process_event(PendingTx("0x01", None, "0x", A, 1)) == ["trade@6"]
    assert feed.stats["released_late"] == 1 and feed.held is None


def test_a_failing_simulator_never_costs_the_strategy_an_event():
    inner = Recorder()
    feed = SimFeed(inner, [A], Simulator(fail=True))
    feed.process_event(head(3, A))
    assert feed.process_event(sync(A, 3)) == ["trade@3"]
    assert feed.stats["simulator_errors"] == 1


def test_first_seen_is_the_earliest_event_of_each_block():
    feed = SimFeed(Recorder(), [A, B], keep=2)
    feed.process_event(head(4, A, at=10.0))
    feed.process_event(sync(A, 4, at=10.5))
    feed.process_event(sync(B, 5, at=11.0))
    feed.process_event(head(5, B, at=11.2))
    feed.process_event(sync(A, 6, at=12.0))
    assert dict(feed.first_seen) == {5: 11.0, 6: 12.0}


def test_bloom_reads_only_tracked_pools_with_the_sync_topic():
    announcements = SyncAnnouncements([A, B, C])
    assert announcements.announced(bloom(A, SYNC_TOPIC)) == {A}
    assert announcements.announced(bloom(A, C, SYNC_TOPIC)) == {A, C}
    assert announcements.announced(bloom(A)) == set()           # A logged, but no Sync anywhere
    assert announcements.announced("") is None and announcements.announced("0x") is None


def _error(message: str) -> bytes:
    text = message.encode()
    return bytes.fromhex("08c379a0") + (32).to_bytes(32, "big") + len(text).to_bytes(32, "big") + text.ljust(32, b"\0")


def test_pyrevm_errors_read_as_node_worded_outcomes():
    revert = f"Revert {{ gas_used: 187029, output: 0x{_error('unprofitable').hex()} }}"
    assert call_outcome(revert) == (False, "simulation reverted: execution reverted: unprofitable", None)
    assert call_outcome("Revert { gas_used: 100, output: 0x }") == (False, "simulation reverted: execution reverted", None)
    assert call_outcome("Halt { reason: OutOfGas(Basic), gas_used: 60000 }") == (False, "simulation halted: OutOfGas", None)
    assert revert_reason(bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big")) == "execution reverted: panic code 0x11"
    assert revert_reason(bytes.fromhex("deadbeef")) == "execution reverted: 0xdeadbeef"
    for other in ("Transaction(RejectCallerWithCode)", "Transport(reqwest::Error { kind: Request })"):
        with pytest.raises(ValueError):
            call_outcome(other)
