"""A small client of the running engine's strategy API (``/api/v1/strategies``).

No engine listening (connection refused, nothing at the address) is a normal state, answered
with ``None``; an engine that answers with an error is a user-visible problem (``MevopsError``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mevops.errors import MevopsError, Problem

if TYPE_CHECKING:
    from mevops.config.models import EffectiveConfig

PREFIX = "/api/v1/strategies"
TIMEOUT_S = 3.0
TOKEN_ENV = "MEVOPS_API_TOKEN"


def api_url(cfg: "EffectiveConfig", explicit: str | None = None) -> str:
    """``--api URL``, else the config's mev_engine.api address (a wildcard host is reached on loopback)."""
    if explicit:
        return explicit.rstrip("/")
    host = cfg.mev_engine.api.host
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if cfg.global_.security.tls is not None else "http"
    return f"{scheme}://{host}:{cfg.mev_engine.api.port}"


@dataclass
class Reply:
    status: int
    body: Any


@dataclass
class EngineApi:
    url: str
    token: str | None = None
    timeout: float = TIMEOUT_S

    @classmethod
    def for_config(cls, cfg: "EffectiveConfig", api: str | None, token: str | None) -> "EngineApi":
        return cls(api_url(cfg, api), token or os.environ.get(TOKEN_ENV) or None)

    def _fail(self, reason: str) -> MevopsError:
        return MevopsError(Problem(self.url, None, "engine API", reason))

    def call(self, method: str, path: str) -> Reply | None:
        """The engine's reply, or None when no engine answers at ``url``."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.request(method, self.url + path, headers=headers, timeout=self.timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return None
        except httpx.HTTPError as exc:
            raise self._fail(f"{method} {path} failed: {exc}") from None
        if response.status_code in (401, 403):
            hint = f"pass --token or set {TOKEN_ENV}" if not self.token else "the token is not allowed to do this"
            raise self._fail(f"{method} {path}: {response.status_code} {_detail(response)} ({hint})")
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200]}
        return Reply(response.status_code, body)

    def expect(self, reply: Reply | None, *ok: int) -> Reply | None:
        if reply is not None and reply.status not in ok:
            detail = reply.body.get("detail") if isinstance(reply.body, dict) else reply.body
            raise self._fail(f"unexpected answer {reply.status}: {detail}")
        return reply

    # -- the contract ---------------------------------------------------------------------------
    def strategies(self) -> list[dict[str, Any]] | None:
        reply = self.expect(self.call("GET", PREFIX), 200)
        return None if reply is None else list(reply.body.get("items", []))

    def strategy(self, name: str) -> dict[str, Any] | None:
        """The loaded strategy and its file text; ``{}`` when the engine does not know it; None: no engine."""
        reply = self.expect(self.call("GET", f"{PREFIX}/{name}"), 200, 404)
        if reply is None:
            return None
        return reply.body if reply.status == 200 else {}

    def reload(self) -> Reply | None:
        """200 (what changed) or 422 (refused: the engine kept its strategies)."""
        return self.expect(self.call("POST", f"{PREFIX}/reload"), 200, 409, 422)

    def disable(self, name: str) -> Reply | None:
        return self.expect(self.call("POST", f"{PREFIX}/{name}/disable"), 200, 404, 409)


def _detail(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)
