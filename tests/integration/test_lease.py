"""One active signer among engine replicas (``mevops.engine.lease``), with real processes against a
real PostgreSQL (``tests/postgres.py``) and against SQLite (flock), and a real anvil for the takeover.

The replicas are ``tests/lease_replica.py`` processes; figures are printed (``-s`` shows them).
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from mevops.engine.chain.nonce import NonceManager
from mevops.engine.chain.rpc_pool import RpcPool
from mevops.engine.lease import FencedNonces, LeaseLost, SignerLease, active_holder, lease_key, take_over
from mevops.engine.store import Store
from tests.lease_replica import CHAIN, DEV_ADDRESS, Replica

TARGET_S = 5.0


@pytest.fixture(params=["postgresql", "sqlite"])
def lease_url(request, tmp_path) -> str:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/engine.db"
    with Store(url) as store:
        store.migrate()
    return url


@pytest.fixture
def pg_url(postgres_url) -> str:
    with Store(postgres_url) as store:
        store.migrate()
    return postgres_url


@pytest.fixture
def replicas():
    started: list[Replica] = []

    def start(*args, **kwargs) -> Replica:
        started.append(Replica(*args, **kwargs))
        return started[-1]

    yield start
    for replica in started:
        replica.stop()


def first_event(group: list[Replica], name: str, timeout: float) -> tuple[Replica, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for replica in group:
            if replica.seen(name):
                return replica, replica.seen(name)[0]
        time.sleep(0.005)
    raise AssertionError(f"no replica reported {name!r} within {timeout} s: " + "; ".join(r.log() for r in group))


def holder_in_store(url: str) -> dict | None:
    with Store(url) as store:
        return active_holder(store, CHAIN, DEV_ADDRESS)


def test_lease_key_is_stable_namespaced_and_blind_to_address_case():
    key = lease_key("ethereum", DEV_ADDRESS)
    assert key == lease_key("ethereum", DEV_ADDRESS.lower()) == -4590376688803542790
    assert key != lease_key("base", DEV_ADDRESS) and -(2**63) <= key < 2**63


def test_one_active_replica_and_kill_9_failover_within_5_s(lease_url, replicas):
    group = [replicas(lease_url, name) for name in ("r1", "r2", "r3")]
    active, _ = first_event(group, "active", 30)
    standbys = [r for r in group if r is not active]
    for replica in standbys:
        replica.wait_for("standby", 30)
    time.sleep(2.5)  # more than two tries of every standby: still one active
    assert [r.holder for r in group if r.seen("active")] == [active.holder]
    assert holder_in_store(lease_url)["holder"] == active.holder

    killed_at = active.signal(signal.SIGKILL)
    successor, event = first_event(standbys, "active", 15)
    takeover = event["t"] - killed_at
    backend = "postgresql" if lease_url.startswith("postgres") else "sqlite"
    print(f"\n{backend}: kill -9 of the active replica → {successor.holder} active in {takeover:.3f} s "
          f"(target {TARGET_S} s, poll 1.0 s)")
    assert takeover < TARGET_S
    time.sleep(2.5)
    assert [r.holder for r in standbys if r.seen("active")] == [successor.holder]
    record = holder_in_store(lease_url)
    assert record["holder"] == successor.holder and record["pid"] == successor.proc.pid


def test_frozen_holder_loses_the_lease_and_never_overlaps_its_successor(pg_url, replicas):
    """SIGSTOP stands for a frozen host: the server ends the silent session after ttl_s; the holder,
    thawed, finds itself inactive (its local validity ended first) and lost, and stands by again."""
    a = replicas(pg_url, "a")
    a.wait_for("active", 30)
    b = replicas(pg_url, "b")
    b.wait_for("standby", 30)
    frozen_at = a.signal(signal.SIGSTOP)
    taken = b.wait_for("active", 15)
    print(f"\nfrozen holder (ttl 3 s, poll 1 s): standby active after {taken['t'] - frozen_at:.3f} s")
    assert taken["t"] - frozen_at < TARGET_S
    a.signal(signal.SIGCONT)
    lost = a.wait_for("lost", 10)
    assert lost["last_active_t"] < taken["t"], "the frozen holder believed it was active after its successor took over"
    assert a.seen("inactive")[0]["last_active_t"] < taken["t"]
    a.wait_for("standby", 10)
    time.sleep(1.5)
    assert len(a.seen("active")) == 1 and holder_in_store(pg_url)["holder"] == "b"


def test_server_side_termination_sets_lost_promptly(pg_url, postgres_cluster):
    async def scenario():
        lease = SignerLease(pg_url, CHAIN, DEV_ADDRESS, holder="me", poll_s=1.0)
        standby = SignerLease(pg_url, CHAIN, DEV_ADDRESS, holder="other", poll_s=1.0)
        await lease.acquire(timeout=10)
        assert lease.is_active and await lease.confirm() and not await standby.try_acquire()
        nonces = FencedNonces(NonceManager(DEV_ADDRESS, _zero, None), lease)
        assert await nonces.take() == 0
        with postgres_cluster.admin() as admin:
            [pid] = [r[0] for r in admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = "
                                                 "'mevops signer lease' AND pid IN (SELECT pid FROM pg_locks "
                                                 "WHERE locktype = 'advisory' AND granted)")]
            started = time.monotonic()
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.wait_for(lease.lost.wait(), 5)
        detected = time.monotonic() - started
        assert not lease.is_active and "administrator command" in lease.lost_reason
        with pytest.raises(LeaseLost):
            await nonces.take()
        assert await standby.try_acquire() and standby.is_active
        await standby.release()
        await lease.release()
        return detected

    detected = asyncio.run(scenario())
    print(f"\npg_terminate_backend → lost after {detected:.3f} s (keep-alive every 1.0 s)")
    assert detected < 2.0  # one keep-alive interval (1 s) and a round trip, with room for a busy machine


async def _zero(address: str) -> int:
    return 0


def test_flock_lease_in_one_process(tmp_path):
    url = f"sqlite:///{tmp_path}/engine.db"
    with Store(url) as store:
        store.migrate()

    async def scenario():
        one = SignerLease(url, CHAIN, DEV_ADDRESS, holder="one", poll_s=0.1)
        two = SignerLease(url, CHAIN, DEV_ADDRESS.lower(), holder="two", poll_s=0.1)
        other_key = SignerLease(url, CHAIN, "0x" + "22" * 20, holder="three", poll_s=0.1)
        assert await one.try_acquire() and not await two.try_acquire() and await other_key.try_acquire()
        assert holder_in_store(url)["holder"] == "one"
        await one.release()
        assert holder_in_store(url) is None and not one.is_active
        await two.acquire(timeout=2)
        [lock_file] = [p for p in tmp_path.glob("engine.db.signer-*.lock") if f"{two.key & (2**64 - 1):016x}" in p.name]
        lock_file.unlink()  # someone deletes the lock file: two could no longer keep others out
        await asyncio.wait_for(two.lost.wait(), 2)
        assert "removed or replaced" in two.lost_reason and not two.is_active
        with Store(url) as store, pytest.raises(LeaseLost):
            await take_over(store, two, RpcPool(["http://127.0.0.1:9"]))
        async with SignerLease(url, CHAIN, DEV_ADDRESS, holder="four", poll_s=0.1) as four:
            assert four.is_active and four.state()["role"] == "active"
        await two.release()
        await other_key.release()

    asyncio.run(scenario())


def test_takeover_rebroadcasts_the_same_bytes_and_continues_at_the_next_nonce(lease_url, replicas, start_anvil):
    """Replica a sends nonce 0, signs and records nonce 1, and is killed before sending it; standby b
    takes over: it settles nonce 0, re-broadcasts nonce 1's stored bytes, and signs nonce 2 next."""
    rpc_url, _ = start_anvil(chain_id=31337)
    a = replicas(lease_url, "a", mode="trade-then-die", rpc=rpc_url)
    assert a.wait_for("took-over", 30)["next_nonce"] == 0
    b = replicas(lease_url, "b", mode="take-over", rpc=rpc_url)
    b.wait_for("standby", 30)
    a.tell("go")
    recorded = a.wait_for("recorded", 30)
    assert a.proc.wait(timeout=30) == -signal.SIGKILL
    took = b.wait_for("took-over", 15)
    assert took["reconciled"] == {"mined": ["a-0"], "rebroadcast": ["a-1"]}
    assert took["last_nonce"] == 1 and took["next_nonce"] == 2
    sent = b.wait_for("sent", 15)
    assert sent["nonce"] == 2
    assert b.wait_for("settled", 15)["reconciled"] == {"mined": ["a-1", "b-2"]}
    assert b.proc.wait(timeout=30) == 0

    expected = {0: recorded["sent"]["tx_hash"], 1: recorded["unsent"]["tx_hash"], 2: sent["tx_hash"]}
    assert asyncio.run(_sender_transactions(rpc_url)) == expected  # each nonce once: no reuse, no double send
    with Store(lease_url) as store:
        trades = store.trades(chain=CHAIN).items
        assert sorted((t.nonce, t.tx_hash, t.status) for t in trades) == [(n, h, "mined") for n, h in expected.items()]
        assert store.pending_trades(CHAIN) == []


async def _sender_transactions(rpc_url: str) -> dict[int, str]:
    found: dict[int, str] = {}
    async with RpcPool([rpc_url]) as pool:
        for number in range(int(await pool.request("eth_blockNumber", []), 16) + 1):
            block = await pool.request("eth_getBlockByNumber", [hex(number), True])
            for tx in block["transactions"]:
                if tx["from"].lower() == DEV_ADDRESS.lower():
                    nonce = int(tx["nonce"], 16)
                    assert nonce not in found, f"nonce {nonce} used twice"
                    found[nonce] = tx["hash"]
        assert int(await pool.request("eth_getTransactionCount", [DEV_ADDRESS, "pending"]), 16) == len(found)
    return found
