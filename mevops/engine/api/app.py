"""The FastAPI application over an EngineService.

Auth: ``Authorization: Bearer <token>`` on every ``/api/v1`` route (a WebSocket client may send
it as a header, or as its first message ``{"token": "..."}`` — never in the URL, which ends up
in logs). viewer reads and streams, operator steers trading, admin changes config and tokens.
Missing or unknown token → 401, a role too low → 403, over the rate limit → 429 + Retry-After.
Every mutating call is written to the audit log (who, what, when; secrets redacted).
``/metrics`` (Prometheus) and ``/healthz`` are open, like any exporter's; they hold no secret.
"""



import asyncio
import contextlib
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from mevops import __version__
from mevops.engine.api.auth import Authenticator, Principal, RateLimiter, limits_from_config
from mevops.engine.api.metrics import exposition, make_registry
from mevops.engine.api.service import ConflictError, EngineService, InvalidConfig, NotFound
from mevops.engine.api.streams import SLOW_CLIENT_CLOSE, TOPICS

PREFIX = "/api/v1"
AUTH_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 5.0
log = logging.getLogger("mevops.engine.api")
WS_POLICY_VIOLATION = 1008


def render_json(content: Any) -> bytes:
    try:
        return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer beyond 64 bits (wei amounts can be): the exact, slower path
        import json

        return json.dumps(content, default=_default, separators=(",", ":")).encode()


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return render_json(content)


def dumps(content: Any) -> str:
    return render_json(content).decode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# -- documented shapes (OpenAPI) ------------------------------------------------------------------
class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Status(Open):
    engine: str
    chain: str
    mode: Literal["paper", "live"]
    running: bool
    trading: bool
    emergency_stop: str | None
    last_block: int
    blocks_processed: int


class Problem(BaseModel):
    file: str
    line: int | None
    key: str
    reason: str


class ConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = Field(description="dotted config keys → new values (null deletes), e.g. "
                                                "{\"global.security.api_rate_limits.trading\": \"60/minute\"}",
                                    min_length=1)


class StopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("operator request", min_length=1, max_length=500)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    role: Literal["viewer", "operator", "admin"]


class Trade(Open):
    id: str
    chain: str
    strategy: str
    status: str
    tx_hash: str


class TradePage(BaseModel):
    items: list[Trade]
    total: int
    page: int
    page_size: int
    pages: int


class StatusFastPath:
    """``GET /api/v1/status`` answered straight from ASGI: dashboards and balancers poll it, and
    FastAPI's routing and dependency resolution cost more than the answer. Same auth and rate
    limit as the route (which documents it and still answers every case this path leaves to it:
    no token, a token not in the cache, a refusal)."""

    PATH = f"{PREFIX}/status"

    def __init__(self, app: Any, *, service: EngineService, auth: Authenticator, limiter: RateLimiter) -> None:
        self.app, self.service, self.auth, self.limiter = app, service, auth, limiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == self.PATH and scope["method"] == "GET":
            token = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    scheme, _, rest = value.decode("latin-1").partition(" ")
                    token = rest.strip() if scheme.lower() == "bearer" else None
                    break
            if token:
                known, principal = self.auth.cached(token)
                if known and principal is not None and self.limiter.hit(f"token:{principal.token_id}", "default") == 0:
                    body = render_json(self.service.status())
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def create_app(service: EngineService, *, store: Any = None, token_lookup: Any = None) -> FastAPI:
    """``store``: the engine's store (tokens, audit, trade history); ``token_lookup(hash)`` overrides
    the store's token lookup (tests)."""
    store = store if store is not None else service.store
    lookup = token_lookup or (store.token_by_hash if store is not None else (lambda digest: None))
    auth = Authenticator(lookup)
    limiter = RateLimiter(limits_from_config(service.config) if service.config is not None else {})
    service.limiter_hooks.append(lambda cfg: limiter.configure(limits_from_config(cfg)))
    registry = make_registry(service)
    audit_memory: list[dict[str, Any]] = []

    app = FastAPI(title="mevops engine API", version=__version__, default_response_class=JSON,
                  description="Status, opportunities, trades, strategies, risk and config of a running mevops engine. "
                              "Bearer tokens with roles viewer < operator < admin (`mevops engine token create`).")
    app.state.service = service
    app.state.background = [service.publish_forever]   # started by ApiServer with the server
    if service.node_monitor is not None:
        monitor = service.node_monitor

        async def watch_nodes() -> None:
            await monitor.run(lambda snapshot: service.hub.publish("nodes", snapshot), lazy=True)

        app.state.background.append(watch_nodes)

    def bearer(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def require(role: str, scope: str) -> Any:
        async def dependency(request: Request) -> Principal:  # async: no thread-pool hop per request
            token = bearer(request)
            if token is None:
                raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
            known, principal = auth.cached(token)
            if not known:  # a database lookup: off the event loop
                principal = await asyncio.to_thread(auth.authenticate, token)
            if principal is None:
                raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
            if not principal.may(role):
                raise HTTPException(403, f"needs the {role} role (this token is {principal.role})")
            wait = limiter.hit(f"token:{principal.token_id}", scope)
            if wait > 0:
                raise HTTPException(429, f"rate limit of scope {scope!r} exceeded",
                                    headers={"Retry-After": str(max(1, round(wait + 0.5)))})
            return principal
        return dependency

    Viewer = Annotated[Principal, Depends(require("viewer", "default"))]
    Operator = Annotated[Principal, Depends(require("operator", "trading"))]
    Admin = Annotated[Principal, Depends(require("admin", "trading"))]

    async def audit(who: Principal, action: str, target: str = "", payload: dict[str, Any] | None = None) -> None:
        if store is not None:
            await asyncio.to_thread(store.audit, who.who, action, target, payload or {}, None, who.role)
        else:
            from mevops.engine.store.records import redact

            audit_memory.append({"who": who.who, "role": who.role, "action": action, "target": target, "payload": redact(payload or {})})

    def conflict(exc: Exception) -> HTTPException:
        return HTTPException(409, str(exc))

    app.add_middleware(StatusFastPath, service=service, auth=auth, limiter=limiter)

    # -- open ------------------------------------------------------------------------------------
    @app.get("/healthz", tags=["ops"], summary="Liveness: the API answers and the engine loop runs")
    async def healthz() -> JSON:
        running = service.engine.running.is_set()
        return JSON({"ok": running, "replica": service.replica["role"]}, status_code=200 if running else 503)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    async def prometheus() -> Response:
        return Response(exposition(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- reads ------------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/status", response_model=Status, tags=["engine"])
    async def status(_: Viewer) -> JSON:
        return JSON(service.status())

    @app.get(f"{PREFIX}/metrics", tags=["engine"], summary="Engine counters as JSON")
    async def metrics(_: Viewer) -> JSON:
        c = service.counters
        return JSON({"engine": service.engine.metrics.snapshot(), "rpc": service.rpc_stats(),
                     "opportunities": service.status()["opportunities"],
                     "realized_pnl_usd": {k: v / 10**6 for k, v in c.realized_usd.items()},
                     "gas_spent_wei": {k: str(v) for k, v in c.gas_wei.items()}, "streams": service.hub.stats()})

    @app.get(f"{PREFIX}/opportunities", tags=["engine"], summary="Most recent opportunities, newest first")
    async def opportunities(_: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                      strategy: Annotated[str | None, Query(max_length=128)] = None,
                      status: Annotated[str | None, Query(max_length=32)] = None) -> JSON:
        return JSON({"items": service.recent_opportunities(limit, strategy, status)})

    @app.get(f"{PREFIX}/positions", tags=["engine"], summary="Open (unsettled) trades and pending transactions")
    async def positions(_: Viewer) -> JSON:
        return JSON({**service.positions(), "pending": await service.pending_trades()})

    @app.get(f"{PREFIX}/history/trades", response_model=TradePage, tags=["history"])
    async def trades(_: Viewer, chain: Annotated[str | None, Query(max_length=64)] = None,
                     strategy: Annotated[str | None, Query(max_length=64)] = None,
                     status: Annotated[Literal["signed", "sent", "mined", "reverted", "dropped"] | None, Query()] = None,
                     since: datetime | None = None, until: datetime | None = None,
                     page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                     page_size: Annotated[int, Query(ge=1, le=500)] = 50) -> JSON:
        if store is None:
            return JSON({"items": [], "total": 0, "page": page, "page_size": page_size, "pages": 1})
        try:
            result = await asyncio.to_thread(store.trades, chain=chain, strategy=strategy, status=status, since=since,
                                             until=until, page=page, page_size=page_size)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        items = [{**vars(t), "gas_cost_wei": t.gas_cost_wei} for t in result.items]
        for item in items:
            for k in ("amount_in", "realized_profit", "effective_gas_price", "gas_cost_wei"):
                if item[k] is not None:
                    item[k] = str(item[k])    # exact: beyond 2**53
        return JSON({"items": items, "total": result.total, "page": result.page, "page_size": result.page_size,
                     "pages": result.pages})

    @app.get(f"{PREFIX}/whoami", tags=["auth"], summary="The presented token's name and role (what a client may show)")
    async def whoami(who: Viewer) -> JSON:
        return JSON({"who": who.who, "name": who.name, "role": who.role, "token_id": who.token_id})

    @app.get(f"{PREFIX}/history/pnl", tags=["history"],
             summary="Cumulative realised profit per token over mined trades (oldest first), gas spent, USD value")
    async def pnl(_: Viewer, since: datetime | None = None) -> JSON:
        if since is None:
            since = datetime.now(timezone.utc) - timedelta(days=1)
        return JSON(await asyncio.to_thread(service.pnl_series, since))

    @app.get(f"{PREFIX}/nodes", tags=["nodes"],
             summary="Per chain and network: backend service states, head, lag, peers, sync state, last backup")
    async def nodes(_: Viewer) -> JSON:
        monitor = service.node_monitor
        return JSON(await monitor.current() if monitor is not None else {"checked_at": None, "items": []})

    @app.get(f"{PREFIX}/strategies", tags=["strategies"])
    async def strategies(_: Viewer) -> JSON:
        return JSON({"items": service.strategies()})

    @app.get(f"{PREFIX}/strategies/{{name}}", tags=["strategies"], summary="A strategy and the file text it was loaded from")
    async def strategy(_: Viewer, name: Annotated[str, Path(max_length=128)]) -> JSON:
        try:
            return JSON(service.strategy_detail(name))
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post(f"{PREFIX}/strategies/reload", tags=["strategies"], responses={422: {"description": "invalid: nothing changed"}},
              summary="Re-read the workspace's strategies (validated like `mevops strategy validate`) without a restart")
    async def strategies_reload(who: Operator) -> JSON:
        try:
            result = await service.reload_strategies()
        except InvalidConfig as exc:
            await audit(who, "strategies.reload.refused", "", {"problems": len(exc.problems)})
            return JSON({"detail": "invalid strategies or config: nothing changed", "problems": exc.problems}, status_code=422)
        except ConflictError as exc:
            raise conflict(exc) from None
        await audit(who, "strategies.reload", "", result)
        return JSON(result)

    @app.get(f"{PREFIX}/risk", tags=["risk"], summary="Limits and their headroom, circuit breakers, emergency stop")
    async def risk(_: Viewer) -> JSON:
        return JSON(service.risk_state())

    # -- operator ------------------------------------------------------------------------------------
    @app.post(f"{PREFIX}/trading/start", tags=["trading"])
    async def trading_start(who: Operator) -> JSON:
        try:
            result = service.set_trading(True)
        except ConflictError as exc:
            raise conflict(exc) from None
        await audit(who, "trading.start")
        return JSON(result)

    @app.post(f"{PREFIX}/trading/stop", tags=["trading"])
    async def trading_stop(who: Operator) -> JSON:
        result = service.set_trading(False)
        await audit(who, "trading.stop")
        return JSON(result)

    @app.post(f"{PREFIX}/strategies/{{name}}/{{verb}}", tags=["strategies"], summary="Enable or disable a loaded strategy")
    async def strategy_toggle(who: Operator, name: Annotated[str, Path(max_length=128)],
                              verb: Literal["enable", "disable"]) -> JSON:
        try:
            result = service.set_strategy(name, verb == "enable")
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except ConflictError as exc:
            raise conflict(exc) from None
        await audit(who, f"strategy.{verb}", name)
        return JSON(result)

    @app.post(f"{PREFIX}/risk/emergency-stop", tags=["risk"], summary="Stop all trading now (until resumed and started)")
    async def emergency_stop(who: Operator, body: StopRequest | None = None) -> JSON:
        reason = (body.reason if body else "operator request") + f" ({who.who})"
        result = service.emergency_stop(reason)
        await audit(who, "risk.emergency_stop", "", {"reason": reason})
        return JSON(result)

    @app.post(f"{PREFIX}/risk/resume", tags=["risk"], summary="Clear the emergency stop (trading stays stopped)")
    async def resume(who: Operator) -> JSON:
        result = service.resume()
        await audit(who, "risk.resume")
        return JSON(result)

    # -- admin ---------------------------------------------------------------------------------------
    @app.post(f"{PREFIX}/config/update", tags=["config"], responses={422: {"description": "invalid: nothing changed"}},
              summary="Validate config changes like `mevops config validate`; hot-reload when valid")
    async def config_update(who: Admin, body: ConfigUpdate) -> JSON:
        try:
            result = service.update_config(body.changes)  # in the loop: the swap is atomic for the engine
        except InvalidConfig as exc:
            await audit(who, "config.update.refused", "", {"changes": body.changes})
            return JSON({"detail": "invalid config: nothing changed", "problems": exc.problems}, status_code=422)
        except ConflictError as exc:
            raise conflict(exc) from None
        await audit(who, "config.update", "", {"changes": body.changes})
        return JSON(result)

    @app.get(f"{PREFIX}/tokens", tags=["tokens"])
    async def tokens(_: Admin) -> JSON:
        if store is None:
            return JSON({"items": []})
        records = await asyncio.to_thread(store.tokens, include_revoked=True)
        return JSON({"items": [{"id": t.id, "name": t.name, "role": t.role, "created_at": t.created_at,
                                "revoked_at": t.revoked_at} for t in records]})

    @app.post(f"{PREFIX}/tokens", tags=["tokens"], status_code=201, summary="Create a token; its secret is shown only here")
    async def create_token(who: Admin, body: TokenRequest) -> JSON:
        if store is None:
            raise HTTPException(409, "no store: tokens cannot be created")
        token, record = await asyncio.to_thread(store.create_token, body.name, body.role)
        await audit(who, "token.create", str(record.id), {"name": body.name, "role": body.role})
        return JSON({"id": record.id, "name": record.name, "role": record.role, "token": token}, status_code=201)

    @app.delete(f"{PREFIX}/tokens/{{token_id}}", tags=["tokens"])
    async def revoke_token(who: Admin, token_id: Annotated[int, Path(ge=1, le=2**62)]) -> JSON:
        if store is None or not await asyncio.to_thread(store.revoke_token, token_id):
            raise HTTPException(404, f"no active token {token_id}")
        auth.forget()
        await audit(who, "token.revoke", str(token_id))
        return JSON({"id": token_id, "revoked": True})

    @app.get(f"{PREFIX}/audit", tags=["audit"], summary="The audit log, newest first")
    async def audit_log(_: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSON:
        if store is None:
            return JSON({"items": audit_memory[-limit:][::-1]})
        records = await asyncio.to_thread(store.audit_log, limit=limit)
        return JSON({"items": [vars(r) for r in records]})

    mount_dashboard(app)

    # -- streams -------------------------------------------------------------------------------------
    @app.websocket(f"{PREFIX}/stream/{{topic}}")
    async def stream(websocket: WebSocket, topic: str, since: int | None = None) -> None:
        """Messages ``{"topic", "seq", "at", "data"}``. Reconnect with ``?since=<last seq>`` to get what
        was missed (while still in the replay buffer; ``{"gap": true}`` says some is gone)."""
        await websocket.accept()
        if topic not in TOPICS:
            await websocket.close(WS_POLICY_VIOLATION, f"unknown stream {topic!r} (one of {', '.join(TOPICS)})")
            return
        token = None
        header = websocket.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        else:
            try:
                first = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
                token = first.get("token") if isinstance(first, dict) else None
            except (asyncio.TimeoutError, ValueError, WebSocketDisconnect):
                token = None
        principal = await asyncio.to_thread(auth.authenticate, token) if isinstance(token, str) and token else None
        if principal is None:
            with contextlib.suppress(Exception):
                await websocket.close(WS_POLICY_VIOLATION, "missing, unknown or revoked token")
            return
        if limiter.hit(f"token:{principal.token_id}", "streams") > 0:
            await websocket.close(SLOW_CLIENT_CLOSE, "stream connection rate limit exceeded")
            return
        if topic == "nodes" and service.node_monitor is not None:
            service.node_monitor.wanted.set()     # the first watcher starts the node checks
        sub, backlog, missed = service.hub.subscribe(topic, since)
        sub.sent_seq = since or 0
        sender = asyncio.create_task(_pump(websocket, sub, backlog, missed))
        receiver = asyncio.create_task(_drain(websocket))
        slow = asyncio.create_task(sub.slow.wait())
        try:
            done, _ = await asyncio.wait({sender, receiver, slow}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            service.hub.unsubscribe(sub)
            for task in (sender, receiver, slow):
                task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None and not isinstance(task.exception(), WebSocketDisconnect):
                log.warning("stream %s: %s", topic, task.exception())
        # the close frame queues behind what the client has not read: give it a moment, then let go
        code, reason = ((SLOW_CLIENT_CLOSE, f"client too slow: reconnect with ?since={sub.sent_seq}") if sub.slow.is_set()
                        else (1000, ""))
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT_S)

    return app


UI_HEADERS = {
    # the dashboard talks only to this origin (REST + its WebSocket streams); no third-party code
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
}


TOP_LEVEL_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.(?:svg|png|ico|txt|webmanifest)")


def mount_dashboard(app: FastAPI) -> None:
    """The web dashboard under ``/``: index.html never cached (it names the current assets), the
    content-hashed ``assets/`` cached for good. Without a build, ``/`` says how to make one."""
    from fastapi.responses import FileResponse, HTMLResponse
    from starlette.staticfiles import StaticFiles

    from mevops.web import STATIC

    index = STATIC / "index.html"

    @app.get("/", include_in_schema=False)
    async def dashboard() -> Response:
        if not index.is_file():
            return HTMLResponse("<!doctype html><title>mevops</title><p>The dashboard is not built: run "
                                "<code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>.</p>",
                                status_code=503, headers=UI_HEADERS)
        return FileResponse(index, headers={**UI_HEADERS, "Cache-Control": "no-cache"})

    class Assets(StaticFiles):
        async def check_config(self) -> None:
            if (STATIC / "assets").is_dir():   # not built: every asset is a 404, not a 500
                await super().check_config()

        async def get_response(self, path: str, scope: Any) -> Response:
            response = await super().get_response(path, scope)
            if response.status_code == 200:
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
                response.headers["X-Content-Type-Options"] = "nosniff"
            return response

    app.mount("/assets", Assets(directory=STATIC / "assets", check_dir=False), name="assets")

    @app.get("/{name}", include_in_schema=False)
    async def top_level_file(name: str) -> Response:
        file = STATIC / name
        if not TOP_LEVEL_FILE.fullmatch(name) or not file.is_file():
            raise HTTPException(404, "Not Found")
        return FileResponse(file, headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def _pump(websocket: WebSocket, sub: Any, backlog: list[dict[str, Any]], missed: bool) -> None:
    if missed:
        await websocket.send_text('{"gap": true}')
    for message in backlog:
        await websocket.send_text(dumps(message))
        sub.sent_seq = message["seq"]
    while True:
        message = await sub.queue.get()
        if message["seq"] <= sub.sent_seq:
            continue
        await websocket.send_text(dumps(message))
        sub.sent_seq = message["seq"]
        sub.sent += 1


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends; returns when it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return

