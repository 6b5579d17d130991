"""The API on the PostgreSQL store: tokens, history, audit — and no secret anywhere in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.api.world import api_world


def test_api_on_postgresql(workspace, postgres_url):
    async def scenario():
        async with api_world(workspace, store_url=postgres_url) as w:
            for i in range(3):
                w.store.record_signed_trade(f"pg{i}", i, f"0x{i:064x}", b"\x02raw", chain="ethereum", strategy="s",
                                            sender="0x" + "ab" * 20, token="0x" + "11" * 20, amount_in=2**200 + i,
                                            at=datetime(2026, 2, 1, i, tzinfo=UTC))
            async with httpx.AsyncClient(base_url=w.url) as c:
                made = (await c.post("/api/v1/tokens", json={"name": "pg", "role": "operator"}, headers=w.headers("admin"))).json()
                mine = {"Authorization": f"Bearer {made['token']}"}
                stop = await c.post("/api/v1/trading/stop", headers=mine)
                history = (await c.get("/api/v1/history/trades", params={"page_size": 2}, headers=mine)).json()
                audit = (await c.get("/api/v1/audit", headers=w.headers("admin"))).json()["items"]
        return made, stop, history, audit, w.tokens

    made, stop, history, audit, tokens = asyncio.run(scenario())
    assert stop.status_code == 200
    assert history["total"] == 3 and history["items"][0]["amount_in"] == str(2**200 + 2)
    assert (audit[0]["action"], audit[0]["role"], audit[0]["who"]) == ("trading.stop", "operator", f"token:{made['id']}:pg")
    url = make_url(postgres_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dump = "".join(str(row) for t in tables for row in conn.execute(f'SELECT row_to_json(x)::text FROM "{t}" x'))
    assert "api_tokens" in tables and "pg" in dump
    for secret in (made["token"], *tokens.values()):
        assert secret not in dump
