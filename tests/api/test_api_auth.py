"""Every endpoint × every role × no token / unknown token: 401, 403 or allowed, as documented."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.world import ROLES, api_world

RANK = {None: -1, "viewer": 0, "operator": 1, "admin": 2}
# (method, path, the least role allowed, JSON body)
ENDPOINTS = [
    ("GET", "/api/v1/status", "viewer", None),
    ("GET", "/api/v1/metrics", "viewer", None),
    ("GET", "/api/v1/opportunities", "viewer", None),
    ("GET", "/api/v1/positions", "viewer", None),
    ("GET", "/api/v1/history/trades", "viewer", None),
    ("GET", "/api/v1/history/pnl", "viewer", None),
    ("GET", "/api/v1/whoami", "viewer", None),
    ("GET", "/api/v1/nodes", "viewer", None),
    ("GET", "/api/v1/strategies", "viewer", None),
    ("GET", "/api/v1/strategies/eth-usdc-dex-arbitrage", "viewer", None),
    ("POST", "/api/v1/strategies/reload", "operator", None),
    ("GET", "/api/v1/risk", "viewer", None),
    ("POST", "/api/v1/trading/stop", "operator", None),
    ("POST", "/api/v1/trading/start", "operator", None),
    ("POST", "/api/v1/strategies/eth-usdc-dex-arbitrage/disable", "operator", None),
    ("POST", "/api/v1/strategies/eth-usdc-dex-arbitrage/enable", "operator", None),
    ("POST", "/api/v1/risk/emergency-stop", "operator", {"reason": "auth matrix"}),
    ("POST", "/api/v1/risk/resume", "operator", None),
    ("POST", "/api/v1/config/update", "admin", {"changes": {"global.logging.level": "DEBUG"}}),
    ("GET", "/api/v1/tokens", "admin", None),
    ("POST", "/api/v1/tokens", "admin", {"name": "made-by-matrix", "role": "viewer"}),
    ("DELETE", "/api/v1/tokens/999999", "admin", None),
    ("GET", "/api/v1/audit", "admin", None),
]


def test_auth_matrix(workspace):
    async def scenario():
        seen = {}
        async with api_world(workspace, env={"MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__DEFAULT": "100000/second",
                                             "MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__TRADING": "100000/second"}) as w:
            async with httpx.AsyncClient(base_url=w.url) as client:
                spec = (await client.get("/openapi.json")).json()
                for method, path, _, body in ENDPOINTS:
                    for who in (None, "bogus", *ROLES):
                        headers = {"Authorization": "Bearer mevops_not-a-real-token"} if who == "bogus" else w.headers(who)
                        r = await client.request(method, path, json=body, headers=headers)
                        seen[(method, path, who)] = (r.status_code, r.headers.get("www-authenticate"))
        return spec, seen

    spec, seen = asyncio.run(scenario())
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() if p.startswith("/api/v1") for m in ops}
    covered = {(m, p) for m, p, _, _ in ENDPOINTS}
    templated = {(m, p.replace("{name}", "eth-usdc-dex-arbitrage").replace("{token_id}", "999999")) for m, p in documented}
    assert {(m, p) for m, p in templated if "{verb}" not in p} | {
        (m, p.replace("{verb}", v)) for m, p in templated if "{verb}" in p for v in ("enable", "disable")} == covered, \
        "every documented endpoint is in the matrix"
    for (method, path, who), (code, challenge) in seen.items():
        least = next(r for m, p, r, _ in ENDPOINTS if (m, p) == (method, path))
        if who in (None, "bogus"):
            assert code == 401 and challenge == "Bearer", (method, path, who, code)
        elif RANK[who] < RANK[least]:
            assert code == 403, (method, path, who, code)
        else:
            assert code not in (401, 403, 422, 500), (method, path, who, code)


def test_revoked_token_is_refused_at_once(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as client:
                created = (await client.post("/api/v1/tokens", json={"name": "short-lived", "role": "operator"},
                                             headers=w.headers("admin"))).json()
                mine = {"Authorization": f"Bearer {created['token']}"}
                before = (await client.get("/api/v1/status", headers=mine)).status_code
                revoked = (await client.delete(f"/api/v1/tokens/{created['id']}", headers=w.headers("admin"))).status_code
                after = (await client.get("/api/v1/status", headers=mine)).status_code
                listed = (await client.get("/api/v1/tokens", headers=w.headers("admin"))).text
        return created, before, revoked, after, listed

    created, before, revoked, after, listed = asyncio.run(scenario())
    assert created["token"].startswith("mevops_") and (before, revoked, after) == (200, 200, 401)
    assert created["token"] not in listed and "token_hash" not in listed


def test_rate_limit_per_token_and_scope(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False,
                             env={"MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__DEFAULT": "5/minute"}) as w:
            async with httpx.AsyncClient(base_url=w.url) as client:
                viewer = [await client.get("/api/v1/status", headers=w.headers("viewer")) for _ in range(7)]
                other = await client.get("/api/v1/status", headers=w.headers("operator"))
        return viewer, other

    viewer, other = asyncio.run(scenario())
    assert [r.status_code for r in viewer] == [200] * 5 + [429] * 2
    assert int(viewer[-1].headers["retry-after"]) >= 1
    assert other.status_code == 200, "another token has its own bucket"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "bearer x y", "Token abc"])
def test_malformed_authorization_is_401(workspace, header):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as client:
                return await client.get("/api/v1/status", headers={"Authorization": header})

    assert asyncio.run(scenario()).status_code == 401


def test_status_fast_path_answers_like_the_route(workspace):
    """The first call with a token goes through the FastAPI route (a cache miss); later ones take
    the ASGI fast path. Same answer shape, same refusals."""
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url) as client:
                routed = await client.get("/api/v1/status", headers=w.headers("viewer"))
                fast = await client.get("/api/v1/status", headers=w.headers("viewer"))
                bogus = [await client.get("/api/v1/status", headers={"Authorization": "Bearer mevops_x"}) for _ in range(2)]
        return routed, fast, bogus

    routed, fast, bogus = asyncio.run(scenario())
    assert routed.status_code == fast.status_code == 200
    assert set(routed.json()) == set(fast.json()) and fast.headers["content-type"] == "application/json"
    assert [b.status_code for b in bogus] == [401, 401]
