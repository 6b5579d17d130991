"""The engine store on SQLite (a temp file). ``tests/integration/test_store_postgres.py`` runs this
same suite against a throwaway PostgreSQL cluster by overriding the ``store_url`` fixture."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mevops.engine.store import Store, StoreError
from mevops.engine.store.database import head_revision
from mevops.engine.store.models import Base

MAX = 2**256 - 1
T0 = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/data/engine.db"


@pytest.fixture
def store(store_url):
    with Store(store_url) as s:
        s.migrate()
        yield s


def signed(store: Store, trade_id: str = "t1", nonce: int = 0, *, chain: str = "ethereum", strategy: str = "arb",
           sender: str = "0x" + "ab" * 20, at: datetime | None = None, **kw) -> None:
    store.record_signed_trade(trade_id, nonce, "0x" + trade_id.encode().hex().rjust(64, "0"), b"\x02signed-" + trade_id.encode(),
                              chain=chain, strategy=strategy, sender=sender, token="0xweth", at=at, **kw)


# -- schema -------------------------------------------------------------------------------------
def test_migrations_from_empty_and_idempotent(store_url):
    with Store(store_url) as s:
        assert s.revision() is None
        s.migrate()
        assert s.revision() == head_revision() == "0002" and s.up_to_date()
        s.migrate()  # again: nothing to do, nothing breaks
        assert s.revision() == "0002"
        tables = set(sa.inspect(s.engine).get_table_names())
    assert {"opportunities", "trades", "pnl_daily", "audit_log", "api_tokens", "kv", "alembic_version"} <= tables


def test_migrations_match_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def _constraint_names(engine: sa.Engine) -> dict[str, tuple]:
    inspector = sa.inspect(engine)
    return {t: (inspector.get_pk_constraint(t)["name"],
                sorted(c["name"] for c in inspector.get_unique_constraints(t)),
                sorted(c["name"] for c in inspector.get_foreign_keys(t)),
                sorted(c["name"] for c in inspector.get_check_constraints(t)),
                sorted(c["name"] for c in inspector.get_indexes(t) if not c.get("duplicates_constraint")))
            for t in Base.metadata.tables}


def test_migrated_constraints_have_the_models_names(store):
    """Named constraints (pk_, uq_, fk_, ck_, ix_), so that later migrations can alter them."""
    models = sa.create_engine("sqlite://")
    Base.metadata.create_all(models)
    assert _constraint_names(store.engine) == _constraint_names(models)


def test_migrations_ship_inside_the_package():
    from mevops.engine.store import database

    versions = database.MIGRATIONS / "versions"
    assert (database.MIGRATIONS / "__init__.py").is_file() and (versions / "__init__.py").is_file()
    assert sorted(p.name for p in versions.glob("0*.py")) == ["0001_initial.py", "0002_audit_role_trade_history.py"]


def test_an_older_database_is_upgraded_in_place(store_url):
    """A 0001 database with data in it: `migrate` brings it to head and keeps every row."""
    from mevops.engine.store import database

    with Store(store_url) as s:
        database.migrate(s.engine, "0001")
        assert s.revision() == "0001" and not s.up_to_date()
        with s.engine.begin() as c:
            c.execute(sa.text("INSERT INTO audit_log (at, who, action, target, payload) "
                              "VALUES (:at, 'cli:old', 'token.create', '1', '{}')"), {"at": datetime(2026, 1, 1, tzinfo=UTC)})
        signed(s, "old-trade", 7)
        s.migrate()
        assert s.revision() == head_revision() and s.up_to_date()
        (entry,) = s.audit_log()
        assert (entry.who, entry.action, entry.role) == ("cli:old", "token.create", "")
        assert s.trade("old-trade").nonce == 7
        s.audit("token:1:x", "trading.stop", role="operator")
        assert s.audit_log()[0].role == "operator"
        indexes = {i["name"] for i in sa.inspect(s.engine).get_indexes("trades")}
    assert "ix_trades_strategy_created" in indexes


# -- amounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [MAX, -MAX, 0, 1, 2**63, 2**64 + 1])
def test_256_bit_amounts_round_trip(store, value):
    signed(store, amount_in=abs(value))
    store.mark_mined("t1", block=1, gas_used=21_000, effective_gas_price=MAX if value == MAX else 7,
                     realized_profit=value)
    trade = store.trade("t1")
    assert trade.amount_in == abs(value) and trade.realized_profit == value and type(trade.realized_profit) is int
    oid = store.record_opportunity(chain="ethereum", strategy="arb", block=1, cycle={}, token="0xweth", amount_in=MAX,
                                   expected_profit=value, net_profit=-MAX)
    opp = store.opportunity(oid)
    assert (opp.amount_in, opp.expected_profit, opp.net_profit) == (MAX, value, -MAX)


def test_amounts_out_of_range_or_not_ints_are_refused(store):
    with pytest.raises(sa.exc.StatementError, match="256 bits"):
        signed(store, amount_in=2**256)
    with pytest.raises(sa.exc.StatementError, match="expected an int"):
        signed(store, "t2", amount_in=1.5)


# -- the life of a trade ---------------------------------------------------------------------------
def test_signed_but_never_sent_is_pending_with_its_raw_tx_after_a_crash(store_url, store):
    signed(store, "t1", 7)
    store.close()  # the process dies before mark_sent
    with Store(store_url) as again:
        again.migrate()
        [pending] = again.pending_trades("ethereum")
        assert (pending.id, pending.nonce, pending.status) == ("t1", 7, "signed")
        assert pending.raw_tx == b"\x02signed-t1" and pending.tx_hash.endswith("7431")
        assert again.pending_trades("arbitrum") == []


def test_a_trade_is_signed_once(store):
    signed(store, "t1")
    signed(store, "t1")  # the same transaction again: a no-op
    with pytest.raises(StoreError, match="never sign a new one"):
        store.record_signed_trade("t1", 0, "0x" + "ff" * 32, b"\x02other", chain="ethereum", strategy="arb",
                                  sender="0x" + "ab" * 20, token="0xweth")
    with pytest.raises(StoreError, match="bytes"):
        store.record_signed_trade("t2", 0, "0x1", b"", chain="ethereum", strategy="arb", sender="0x1", token="0xweth")


def test_pending_until_final_in_nonce_order(store):
    signed(store, "b", 2)
    signed(store, "a", 1)
    signed(store, "c", 3)
    store.mark_sent("a")
    assert [p.id for p in store.pending_trades()] == ["a", "b", "c"]
    store.mark_mined("a", block=10, gas_used=100, effective_gas_price=5, realized_profit=3)
    store.mark_reverted("b", block=10, gas_used=100, effective_gas_price=5, reason="min profit")
    store.mark_dropped("c", reason="replaced")
    assert store.pending_trades() == []
    assert store.trade("b").reason == "min profit" and store.trade("c").status == "dropped"


def test_final_states_are_final_and_repeating_them_is_harmless(store):
    signed(store, "t1")
    store.mark_sent("t1")
    store.mark_sent("t1")  # re-broadcast
    assert store.mark_mined("t1", block=1, gas_used=1, effective_gas_price=1, realized_profit=5)
    assert not store.mark_mined("t1", block=1, gas_used=1, effective_gas_price=1, realized_profit=5)
    assert store.pnl()[0].mined == 1  # counted once
    with pytest.raises(StoreError, match="is mined: it cannot become reverted"):
        store.mark_reverted("t1", block=1, gas_used=1, effective_gas_price=1)
    with pytest.raises(StoreError, match="cannot become sent"):
        store.mark_sent("t1")
    with pytest.raises(StoreError, match="no trade"):
        store.mark_sent("nope")


def test_opportunity_status_follows_its_trade(store):
    from tests.unit.risk_support import make_trade

    action = make_trade()
    oid = store.record_trade_opportunity(action, "simulated")
    assert oid == action.id and store.opportunity(oid).cycle["hops"][0]["pool"] == "0xpool"
    signed(store, "t1", opportunity_id=oid)
    store.mark_sent("t1")
    assert store.opportunity(oid).status == "sent"
    store.mark_mined("t1", block=1, gas_used=1, effective_gas_price=1, realized_profit=1)
    assert store.opportunity(oid).status == "landed"
    store.set_opportunity_status(oid, "failed", "operator")
    assert store.opportunity(oid).reason == "operator"
    with pytest.raises(StoreError, match="status"):
        store.set_opportunity_status(oid, "lost")


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sa.exc.IntegrityError):
        signed(store, "t1", opportunity_id="missing")


def test_last_nonce_ignores_dropped_transactions(store):
    sender = "0x" + "cd" * 20
    assert store.last_nonce("ethereum", sender) is None
    signed(store, "a", 4, sender=sender)
    signed(store, "b", 5, sender=sender)
    assert store.last_nonce("ethereum", sender) == 5
    store.mark_dropped("b")
    assert store.last_nonce("ethereum", sender) == 4
    assert store.last_nonce("arbitrum", sender) is None


# -- queries --------------------------------------------------------------------------------------
def test_trades_filters_and_pages(store):
    for i in range(7):
        signed(store, f"e{i}", i, at=T0 + timedelta(minutes=i))
    for i in range(3):
        signed(store, f"a{i}", i, chain="arbitrum", strategy="other", at=T0 + timedelta(hours=1, minutes=i))
    page = store.trades(chain="ethereum", page=1, page_size=3)
    assert page.total == 7 and page.pages == 3 and [t.id for t in page.items] == ["e6", "e5", "e4"]
    assert [t.id for t in store.trades(chain="ethereum", page=3, page_size=3).items] == ["e0"]
    assert store.trades(strategy="other").total == 3
    assert store.trades(since=T0 + timedelta(minutes=5), until=T0 + timedelta(hours=1)).total == 2
    store.mark_sent("a1")
    assert [t.id for t in store.trades(status="sent").items] == ["a1"]
    assert store.trades(page=9).items == []
    with pytest.raises(ValueError):
        store.trades(page_size=0)
    assert store.trade("e0").created_at == T0 and store.trade("e0").created_at.tzinfo is not None


def test_pnl_is_exact_per_day_chain_strategy_and_token(store):
    day1, day2 = T0, T0 + timedelta(days=1)
    for i, (at, profit) in enumerate([(day1, MAX // 2), (day1, MAX // 2), (day2, -5)]):
        signed(store, f"t{i}", i)
        store.mark_mined(f"t{i}", block=1, gas_used=10, effective_gas_price=3, realized_profit=profit, at=at)
    signed(store, "r", 9)
    store.mark_reverted("r", block=1, gas_used=100, effective_gas_price=2, at=day2)
    signed(store, "x", 10, chain="arbitrum")
    store.mark_mined("x", block=1, gas_used=1, effective_gas_price=1, realized_profit=1, at=day2)
    [eth] = store.pnl("ethereum")
    assert (eth.mined, eth.reverted, eth.realized_profit, eth.gas_cost_wei) == (3, 1, MAX - 1 - 5, 290)
    by_day = store.pnl("ethereum", by_day=True)
    assert [(r.day, r.mined, r.reverted) for r in by_day] == [(date(2026, 1, 2), 2, 0), (date(2026, 1, 3), 1, 1)]
    [since] = store.pnl("ethereum", since=day2)
    assert (since.mined, since.realized_profit, since.gas_cost_wei) == (1, -5, 230)
    assert len(store.pnl()) == 2 and store.pnl(strategy="nope") == []


# -- audit, tokens, kv -----------------------------------------------------------------------------
def test_audit_log_redacts_secrets(store):
    store.audit("alice", "strategy.deploy", "arb", {"stage": "active", "private_key": "0xdead",
                                                     "nested": {"api_key": "k", "password": "p"}, "token": "t"}, at=T0)
    store.audit("bob", "engine.stop", "", at=T0 + timedelta(seconds=1))
    [latest, first] = store.audit_log()
    assert latest.who == "bob" and first.payload == {"stage": "active", "private_key": "[redacted]",
                                                      "nested": {"api_key": "[redacted]", "password": "[redacted]"},
                                                      "token": "[redacted]"}
    assert [e.who for e in store.audit_log(who="alice")] == ["alice"]
    assert [e.who for e in store.audit_log(since=T0 + timedelta(seconds=1))] == ["bob"]


def test_api_tokens_keep_only_a_hash(store):
    token, record = store.create_token("ci", "operator")
    assert token.startswith("mevops_") and len(token) > 40 and record.token_hash != token
    assert store.verify_token(token).name == "ci" and store.verify_token(token + "x") is None
    assert store.token_by_hash(record.token_hash).role == "operator"
    assert store.revoke_token(record.id) and not store.revoke_token(record.id)
    assert store.verify_token(token) is None
    assert store.tokens() == [] and store.tokens(include_revoked=True)[0].revoked_at is not None
    with pytest.raises(StoreError, match="role"):
        store.create_token("x", "root")
    with pytest.raises(StoreError, match="sha-256|SHA-256"):
        store.add_token_hash("x", "viewer", "not-a-hash")


def test_kv(store):
    assert store.get("last_block:ethereum") is None and store.get("x", 5) == 5
    store.set("last_block:ethereum", 19_000_000)
    store.set("last_block:ethereum", 19_000_001)
    store.set("state", {"paused": ["arb"], "big": str(MAX)})
    assert store.get("last_block:ethereum") == 19_000_001
    assert store.get("state") == {"paused": ["arb"], "big": str(MAX)}


# -- durability -----------------------------------------------------------------------------------
def test_sqlite_runs_in_wal_mode_with_foreign_keys(store):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with store.engine.connect() as c:
        pragmas = [c.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous", "foreign_keys")]
    assert pragmas == ["wal", 1, 1]


def test_a_signed_trade_survives_kill_9(store_url, store, tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from mevops.engine.store import Store
        store = Store({store_url!r})
        store.migrate()
        store.record_signed_trade("k9", 42, "0x" + "99" * 32, b"\\x02raw-k9", chain="ethereum", strategy="arb",
                                  sender="0x" + "ab" * 20, token="0xweth", amount_in={MAX})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == -9, run.stderr
    with Store(store_url) as again:
        [pending] = again.pending_trades()
    assert (pending.id, pending.nonce, pending.raw_tx, pending.status) == ("k9", 42, b"\x02raw-k9", "signed")


def test_no_key_or_token_in_clear_in_the_database_file(store, tmp_path):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("greps the SQLite files")
    from eth_account import Account

    key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    account = Account.from_key(key)
    tx = {"type": 2, "chainId": 1, "nonce": 0, "to": "0x" + "11" * 20, "value": 1, "gas": 21_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "data": b""}
    signed_tx = account.sign_transaction(tx)
    store.record_signed_trade("t1", 0, "0x" + bytes(signed_tx.hash).hex(), bytes(signed_tx.raw_transaction),
                              chain="ethereum", strategy="arb", sender=account.address, token="0xweth")
    store.audit("ops", "signer.load", "ethereum", {"private_key": key, "api_key": "sk-live-0123456789abcdef"})
    token, _ = store.create_token("ci", "admin")
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("engine.db*"))
    assert bytes(signed_tx.raw_transaction) in blobs  # the signed bytes are kept, for re-broadcast
    for secret in (key[2:], key[2:].upper(), "sk-live-0123456789abcdef", token):
        assert secret.encode() not in blobs, secret
    assert bytes.fromhex(key[2:]) not in blobs


def test_signed_trades_commit_with_a_synced_wal(store):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with store._durable_session() as s:
        assert s.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL while recording
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL otherwise


def test_calls_from_several_threads(store):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> None:
        signed(store, f"t{i}", i)
        store.mark_sent(f"t{i}")
        store.audit("engine", "trade.sent", f"t{i}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(40)))
    assert len(store.pending_trades()) == 40 and len(store.audit_log(limit=100)) == 40
