"""EngineService: what the API reads and steers, with no HTTP in it.

The runtime (``mevops engine run``) and the demo build one around their engine; the service
hooks the engine's actions and results to keep counters, the recent opportunities and the
streams, and carries out operator requests (trading start/stop, strategies, emergency stop,
config updates validated exactly like ``mevops config validate``). Everything here runs in the
engine's event loop; store calls that may block go through a worker thread.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.api.streams import Hub
from mevops.engine.types import ArbTrade, ExecutionResult

log = logging.getLogger("mevops.engine.api")
SIMULATED = ("paper", "sent", "simulated_fail", "mined", "reverted")  # results that passed through a simulation
USD_SCALE = 10**6


class ConflictError(Exception):
    """The request cannot be done in the engine's current state (HTTP 409)."""


class NotFound(Exception):
    """HTTP 404."""


class InvalidConfig(Exception):
    """A config update that ``mevops config validate`` would refuse (HTTP 422); nothing changed."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Counters:
    found: collections.Counter = field(default_factory=collections.Counter)        # (strategy, chain)
    simulated: collections.Counter = field(default_factory=collections.Counter)    # strategy
    sim_failed: collections.Counter = field(default_factory=collections.Counter)   # strategy
    sent: collections.Counter = field(default_factory=collections.Counter)         # (strategy, chain)
    landed: collections.Counter = field(default_factory=collections.Counter)       # (strategy, chain)
    refused: collections.Counter = field(default_factory=collections.Counter)      # strategy
    realized_usd: collections.Counter = field(default_factory=collections.Counter)  # strategy → micro-USD
    daily_usd: dict[str, int] = field(default_factory=dict)                        # "YYYY-MM-DD" → micro-USD
    gas_wei: collections.Counter = field(default_factory=collections.Counter)      # chain


class EngineService:
    def __init__(self, engine: Any, *, chain: str, mode: str, name: str = "mevops-engine", risk: Any = None,
                 store: Any = None, pricing: Any = None, ws: Any = None, env: str | None = None, config: Any = None,
                 strategies: list[Any] | None = None, hub: Hub | None = None, rpc_stats: Callable[[], dict] | None = None,
                 queue_sizes: dict[str, int] | None = None) -> None:
        self.engine, self.chain, self.mode, self.name = engine, chain, mode, name
        self.risk, self.store, self.pricing = risk, store, pricing
        self.ws, self.env, self.config = ws, env, config
        self.records = list(strategies or [])
        self.hub = hub or Hub()
        self.rpc_stats = rpc_stats or (lambda: {})
        self.queue_sizes = queue_sizes or {}
        self.counters = Counters()
        self.opportunities: collections.deque[dict[str, Any]] = collections.deque(maxlen=500)
        self._by_action: dict[str, dict[str, Any]] = {}
        self.started_at = time.time()
        self.trading = True
        self.overrides: dict[str, Any] = {}     # config changes made through the API (not written to the workspace)
        self.config_version = 0
        self.replica = {"id": f"{socket.gethostname()}:{os.getpid()}", "role": "active", "since": self.started_at}
        self.on_config: list[Callable[[Any], None]] = []   # hot-reload hooks (strategies' settings, ...)
        # strategy hot reload: a factory for strategies this engine can add while running (None: cannot),
        # hooks applying a changed file to a loaded strategy, and the text each was loaded from
        self.strategy_factory: Callable[[Any], Any] | None = None
        self.on_strategy_update: list[Callable[[Any], None]] = []
        self.loaded_text: dict[str, str] = {}
        self.router: Any = None   # a StageRouter: strategies in testing paper-trade through it
        self.held_off: set[str] = set()   # loaded but disabled (by an operator or by its file): trading/start keeps them off
        self.limiter_hooks: list[Callable[[Any], None]] = []
        self._metrics_task: asyncio.Task | None = None
        self.node_monitor: Any = None   # a NodeMonitor (GET /nodes, the nodes stream), or None: no nodes known
        self.tokens: dict[str, tuple[str, int]] = {}   # token address (lower) → (symbol, decimals), for the dashboard
        engine.on_action = self.on_action
        previous = engine.on_result

        def on_result(action: Any, result: ExecutionResult) -> None:
            if previous is not None:
                previous(action, result)
            self.on_result(action, result)

        engine.on_result = on_result

    # -- engine hooks -----------------------------------------------------------------------------
    def on_action(self, action: Any) -> None:
        if not isinstance(action, ArbTrade):
            return
        self.counters.found[(action.strategy, action.chain)] += 1
        record = {
            "id": action.id, "strategy": action.strategy, "chain": action.chain, "block": action.block,
            "token": action.token, "amount_in": str(action.amount_in), "expected_profit": str(action.expected_profit),
            "gas_cost": str(action.gas_cost), "net_profit": str(action.net_profit),
            "cycle": [{"pool": h.pool, "token_in": h.token_in, "token_out": h.token_out, "fee_bps": h.fee_bps} for h in action.hops],
            "status": "found", "reason": "", "tx_hash": None, "found_at": time.time(),
        }
        self.opportunities.appendleft(record)
        self._by_action[action.id] = record
        if len(self._by_action) > 2 * (self.opportunities.maxlen or 500):
            keep = {r["id"] for r in self.opportunities}
            self._by_action = {k: v for k, v in self._by_action.items() if k in keep}
        self.hub.publish("opportunities", record)

    def on_result(self, action: Any, result: ExecutionResult) -> None:
        if not isinstance(action, ArbTrade):
            return
        key = (action.strategy, action.chain)
        status = result.status
        if status in SIMULATED:
            self.counters.simulated[action.strategy] += 1
        if status == "simulated_fail":
            self.counters.sim_failed[action.strategy] += 1
        elif status == "sent":
            self.counters.sent[key] += 1
        elif status == "refused":
            self.counters.refused[action.strategy] += 1
        record = self._by_action.get(action.id)
        if record is not None:
            record.update(status=status, reason=result.reason, tx_hash=result.tx_hash)
        self.hub.publish("trades", self._trade_message(action, result))
        if status == "refused" and self.risk is not None and self.risk.stopped:
            self.alert("critical", "emergency_stop", f"trade refused: {result.reason}")

    def on_final(self, action: Any, result: ExecutionResult) -> None:
        """A sent trade became final (mined, reverted, dropped): landed, PnL, gas."""
        if not isinstance(action, ArbTrade):
            return
        if result.status == "mined":
            self.counters.landed[(action.strategy, action.chain)] += 1
            if result.realized_profit is not None and self.pricing is not None:
                try:
                    usd = self.pricing.usd_value(action.chain, action.token, result.realized_profit)
                except Exception:  # noqa: BLE001 - no price: counted as no profit
                    usd = 0
                self.counters.realized_usd[action.strategy] += usd
                day = time.strftime("%Y-%m-%d", time.gmtime())
                self.counters.daily_usd[day] = self.counters.daily_usd.get(day, 0) + usd
        if result.gas_used is not None and result.effective_gas_price is not None:
            self.counters.gas_wei[action.chain] += result.gas_used * result.effective_gas_price
        record = self._by_action.get(action.id)
        if record is not None:
            record.update(status=result.status, tx_hash=result.tx_hash, reason=result.reason)
        self.hub.publish("trades", self._trade_message(action, result))

    @staticmethod
    def _trade_message(action: ArbTrade, result: ExecutionResult) -> dict[str, Any]:
        return {"id": action.id, "strategy": action.strategy, "chain": action.chain, "status": result.status,
                "tx_hash": result.tx_hash, "block": result.block, "gas_used": result.gas_used,
                "realized_profit": None if result.realized_profit is None else str(result.realized_profit),
                "expected_profit": str(action.expected_profit), "token": action.token, "reason": result.reason}

    def alert(self, severity: str, name: str, message: str, **labels: Any) -> None:
        self.hub.publish("alerts", {"severity": severity, "alert": name, "message": message, "engine": self.name, **labels})

    # -- periodic: the metrics stream and alerts from state changes ---------------------------------
    async def publish_forever(self, interval: float = 1.0) -> None:
        """Every ``interval``: a metrics message (the status plus counters), and an alert for each
        circuit breaker that opened or closed and each collector restart since the last tick."""
        breakers: dict[str, str] = {}
        restarts: dict[str, int] = {}
        while True:
            try:
                status = self.status()
                status["rpc"] = self.rpc_stats()
                self.hub.publish("metrics", status)
                if self.risk is not None:
                    now = time.time()
                    for name, breaker in self.risk.breakers.items():
                        state = breaker.state(now)
                        if breakers.get(name, "closed") != state:
                            self.alert("critical" if state == "open" else "info", f"circuit_breaker_{state}",
                                       f"circuit breaker {name} is {state}", breaker=name)
                        breakers[name] = state
                for name, count in self.engine.metrics.collector_restarts.items():
                    if count > restarts.get(name, 0):
                        self.alert("warning", "collector_restarted", f"collector {name} restarted ({count} so far)",
                                   collector=name)
                    restarts[name] = count
            except Exception:  # a broken tick never ends the stream
                log.exception("metrics publisher tick failed")
            await asyncio.sleep(interval)

    # -- reads ----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        m = self.engine.metrics
        lags = m.event_lag_ms
        return {
            "engine": self.name, "chain": self.chain, "mode": self.mode,
            "running": self.engine.running.is_set(), "trading": self.trading,
            "emergency_stop": self.risk.stop_reason if self.risk is not None else None,
            "uptime_s": round(time.time() - self.started_at, 3), "last_block": m.last_block,
            "blocks_processed": m.events.get("NewBlock", 0), "event_lag_ms": round(lags[-1], 3) if lags else None,
            "queues": {name: {"depth": depth, "capacity": self.queue_sizes.get(name)} for name, depth in m.queue_depth.items()},
            "dropped": dict(m.dropped),
            "strategies": {s.name: {"enabled": self.engine.enabled.get(s.name, True)} for s in self.engine.strategies},
            "opportunities": {"found": sum(self.counters.found.values()), "simulated": sum(self.counters.simulated.values()),
                              "sent": sum(self.counters.sent.values()), "landed": sum(self.counters.landed.values())},
            "replica": dict(self.replica), "config_version": self.config_version,
        }

    def recent_opportunities(self, limit: int = 100, strategy: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        out = []
        for record in self.opportunities:
            if (strategy is None or record["strategy"] == strategy) and (status is None or record["status"] == status):
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    def positions(self) -> dict[str, Any]:
        now = time.time()
        open_trades = []
        if self.risk is not None:
            for t in self.risk.book:
                open_trades.append({"id": t.id, "strategy": t.strategy, "type": t.type, "chain": t.chain,
                                    "exposure_usd": t.exposure_usd / USD_SCALE, "worst_loss_usd": t.worst_loss_usd / USD_SCALE,
                                    "age_s": round(now - t.opened_at, 3)})
        return {"open": open_trades, "exposure_usd": sum(t["exposure_usd"] for t in open_trades)}

    async def pending_trades(self) -> list[dict[str, Any]]:
        if self.store is None:
            return []
        pending = await asyncio.to_thread(self.store.pending_trades, self.chain)
        return [{"id": p.id, "tx_hash": p.tx_hash, "nonce": p.nonce, "status": p.status} for p in pending]

    def token_meta(self, token: str) -> tuple[str, int]:
        return self.tokens.get(token.lower(), (f"{token[:6]}…{token[-4:]}" if len(token) > 12 else token, 18))

    def pnl_series(self, since: Any = None, limit: int = 5000) -> dict[str, Any]:
        """Cumulative realised profit per token over the mined trades since ``since`` (oldest first;
        the newest ``limit`` trades), gas spent on them, and their USD value when prices are known.
        Amounts are exact integers (as strings): they exceed 2**53."""
        items: list[Any] = []
        if self.store is not None:
            page = 1
            while len(items) < limit:
                result = self.store.trades(chain=None, status="mined", since=since, page=page, page_size=1000)
                items.extend(result.items)
                if page >= result.pages:
                    break
                page += 1
        items = sorted(items[:limit], key=lambda t: (t.created_at, t.id))
        series: dict[str, dict[str, Any]] = {}
        gas = 0
        usd: float | None = 0.0 if self.pricing is not None else None
        for t in items:
            gas += t.gas_cost_wei or 0
            if t.realized_profit is None:
                continue
            entry = series.get(t.token.lower())
            if entry is None:
                symbol, decimals = self.token_meta(t.token)
                entry = series[t.token.lower()] = {"token": t.token, "symbol": symbol, "decimals": decimals, "points": [], "_sum": 0}
            entry["_sum"] += t.realized_profit
            entry["points"].append({"at": t.created_at, "cumulative": str(entry["_sum"]), "tx_hash": t.tx_hash,
                                    "strategy": t.strategy, "chain": t.chain})
            if usd is not None:
                try:
                    usd += self.pricing.usd_value(t.chain, t.token, t.realized_profit) / USD_SCALE
                except Exception:  # noqa: BLE001 - no price for this token: left out of the USD sum
                    pass
        for entry in series.values():
            entry.pop("_sum")
        return {"series": list(series.values()), "gas_spent_wei": str(gas), "trades": len(items),
                "realized_usd": None if usd is None else round(usd, 6),
                "tokens": {address: {"symbol": symbol, "decimals": decimals} for address, (symbol, decimals) in self.tokens.items()}}

    def risk_state(self) -> dict[str, Any]:
        if self.risk is None:
            return {"enabled": False}
        now = time.time()
        snap = self.risk.snapshot(now)
        limits = self.risk.limits
        headroom = {}
        for name, value, limit in (
            ("daily_loss", snap["loss_day_usd"], limits.loss.daily),
            ("hourly_loss", snap["loss_hour_usd"], limits.loss.hourly),
            ("total_exposure", snap["open_exposure_usd"], limits.max_total_exposure),
        ):
            if limit is None:
                continue
            headroom[name] = {"used_usd": value / USD_SCALE, "limit_usd": limit.value / USD_SCALE, "source": limit.source,
                              "headroom_ratio": max(0.0, 1 - value / limit.value) if limit.value else 0.0}
        return {"enabled": True, "emergency_stop": snap["stopped"], "active_strategies": snap["active_strategies"],
                "open_trades": snap["open_trades"], "breakers": snap["breakers"], "headroom": headroom}

    def strategies(self) -> list[dict[str, Any]]:
        loaded = {s.name for s in self.engine.strategies}
        out = []
        seen = set()
        for r in self.records:
            seen.add(r.name)
            out.append({"name": r.name, "type": r.spec.strategy.type, "stage": r.stage,
                        "mode": "paper" if self.router is not None and r.name in self.router.paper_strategies else self.mode,
                        "chains": list(r.spec.parameters.chains), "enabled_in_file": r.spec.strategy.enabled,
                        "loaded": r.name in loaded, "enabled": self.engine.enabled.get(r.name, False) if r.name in loaded else False})
        for name in sorted(loaded - seen):
            out.append({"name": name, "type": None, "stage": None, "chains": [self.chain], "enabled_in_file": None,
                        "loaded": True, "enabled": self.engine.enabled.get(name, True)})
        return out

    # -- operator actions ---------------------------------------------------------------------------
    def set_trading(self, on: bool) -> dict[str, Any]:
        if on and self.risk is not None and self.risk.stopped:
            raise ConflictError(f"emergency stop is active ({self.risk.stop_reason}): resume it first (POST /api/v1/risk/resume)")
        self.trading = on
        for name in self.engine.enabled:
            # a standby never trades; a strategy disabled by an operator or its file stays off
            self.engine.enabled[name] = on and self.replica.get("role") != "standby" and name not in self.held_off
        self.alert("info", "trading_started" if on else "trading_stopped", f"trading {'started' if on else 'stopped'}")
        return {"trading": self.trading}

    def set_strategy(self, name: str, enabled: bool) -> dict[str, Any]:
        if name not in self.engine.enabled:
            if any(r.name == name for r in self.records):
                raise ConflictError(f"strategy {name!r} is not loaded in this engine")
            raise NotFound(f"no strategy {name!r}")
        (self.held_off.discard if enabled else self.held_off.add)(name)
        self.engine.enabled[name] = enabled and self.trading and self.replica.get("role") != "standby"
        if self.risk is not None:
            if enabled:
                decision = self.risk.register_strategy(name)
                if not decision.allowed:
                    self.engine.enabled[name] = False
                    self.held_off.add(name)
                    raise ConflictError(str(decision))
            else:
                self.risk.unregister_strategy(name)
        return {"name": name, "enabled": self.engine.enabled[name]}

    def emergency_stop(self, reason: str) -> dict[str, Any]:
        if self.risk is not None:
            self.risk.emergency_stop(reason)
        self.trading = False
        for name in self.engine.enabled:
            self.engine.enabled[name] = False
        self.alert("critical", "emergency_stop", reason)
        return {"emergency_stop": reason, "trading": False}

    def resume(self) -> dict[str, Any]:
        if self.risk is not None:
            self.risk.resume()
        self.alert("warning", "emergency_stop_cleared", "emergency stop cleared; trading stays stopped until started")
        return {"emergency_stop": None, "trading": self.trading}

    def strategy_detail(self, name: str) -> dict[str, Any]:
        record = next((r for r in self.records if r.name == name), None)
        loaded = any(s.name == name for s in self.engine.strategies)
        if record is None and not loaded:
            raise NotFound(f"no strategy {name!r}")
        text = self.loaded_text.get(name)
        import hashlib

        return {"name": name, "stage": record.stage if record else None, "loaded": loaded,
                "enabled": self.engine.enabled.get(name, False) if loaded else False,
                "text": text, "sha256": hashlib.sha256(text.encode()).hexdigest() if text is not None else None}

    async def reload_strategies(self) -> dict[str, Any]:
        """Re-read the workspace's strategies, validated like ``mevops strategy validate`` (and the
        rest of the workspace like ``config validate``): a bad file is refused (InvalidConfig) and
        nothing changes. Then: changed files update their loaded strategies, newly active ones are
        added (when this engine can run them), ones no longer active and enabled stop trading."""
        if self.ws is None or self.env is None:
            raise ConflictError("this engine was started without a workspace: its strategies cannot be reloaded")
        from mevops.config.validate import validate_workspace

        environ, names = overlay_environ(self.overrides)
        report = await asyncio.to_thread(validate_workspace, self.ws, self.env, environ)
        if not report.ok:
            raise InvalidConfig([{"file": names.get(p.file, p.file), "line": p.line, "key": p.key, "reason": p.reason}
                                 for p in report.problems])
        records = report.strategies
        stages = ("active", "testing") if self.router is not None else ("active",)
        wanted = {r.name: r for r in records if r.stage in stages and r.spec.strategy.enabled
                  and self.chain in r.spec.parameters.chains}
        paper = {name for name, r in wanted.items() if r.stage == "testing"}
        self.apply_config(report.config, records)
        self.records = records
        may_trade = self.trading and self.replica.get("role") != "standby" and not (self.risk is not None and self.risk.stopped)
        summary: dict[str, Any] = {"updated": [], "added": [], "disabled": [], "unchanged": [], "refused": {}}
        for strategy in list(self.engine.strategies):
            name = strategy.name
            rec = wanted.get(name)
            if rec is None:
                if self.engine.enabled.get(name):
                    summary["disabled"].append(name)
                self.engine.enabled[name] = False
                self.held_off.add(name)
                if self.risk is not None:
                    self.risk.unregister_strategy(name)
                continue
            text = rec.path.read_text()
            was_paper = self.router is not None and name in self.router.paper_strategies
            if self.loaded_text.get(name) != text or was_paper != (name in paper):
                for hook in self.on_strategy_update:
                    hook(rec)
                self.loaded_text[name] = text
                summary["updated"].append(name)   # new parameters, or promoted to live / back to paper
            else:
                summary["unchanged"].append(name)
            self.held_off.discard(name)   # its file says active (or testing) and enabled
            if self._set_paper(name, name in paper):
                self.engine.enabled[name] = may_trade
                continue
            if self.risk is not None:
                decision = self.risk.register_strategy(name)
                if not decision.allowed:
                    summary["refused"][name] = str(decision)
                    self.engine.enabled[name] = False
                    self.held_off.add(name)
                    continue
            self.engine.enabled[name] = may_trade
        loaded = {s.name for s in self.engine.strategies}
        for name, rec in sorted(wanted.items()):
            if name in loaded:
                continue
            strategy = await self.strategy_factory(rec) if self.strategy_factory is not None else None
            if strategy is None:
                summary["refused"][name] = f"this engine cannot run {rec.spec.strategy.type} strategies"
                continue
            if not self._set_paper(name, name in paper) and self.risk is not None:
                decision = self.risk.register_strategy(name)
                if not decision.allowed:
                    summary["refused"][name] = str(decision)
                    continue
            self.engine.add_strategy(strategy, enabled=may_trade)
            self.loaded_text[name] = rec.path.read_text()
            summary["added"].append(name)
        changed = [n for k in ("updated", "added", "disabled") for n in summary[k]]
        self.alert("info", "strategies_reloaded", f"strategies reloaded: {', '.join(changed) or 'no change'}")
        return summary

    def _set_paper(self, name: str, paper: bool) -> bool:
        """Route ``name`` to paper trading (testing) or to the engine's executor (active)."""
        if self.router is None:
            return False
        if paper:
            self.router.paper_strategies.add(name)
            if self.risk is not None:
                self.risk.unregister_strategy(name)   # a paper strategy takes no live slot
        else:
            self.router.paper_strategies.discard(name)
        return paper

    # -- config -----------------------------------------------------------------------------------------
    def update_config(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate the workspace with ``changes`` (dotted keys → values; null deletes) layered on
        top, exactly as ``mevops config validate`` would with the same MEVOPS_* variables; apply
        the result only if it is valid."""
        if self.ws is None or self.env is None:
            raise ConflictError("this engine was started without a workspace: its config cannot be updated")
        from mevops.config.validate import validate_workspace

        merged = {**self.overrides, **changes}
        environ, names = overlay_environ(merged)
        report = validate_workspace(self.ws, self.env, environ)
        if not report.ok:
            raise InvalidConfig([{"file": names.get(p.file, p.file), "line": p.line, "key": p.key, "reason": p.reason}
                                 for p in report.problems])
        self.overrides = merged
        self.apply_config(report.config, report.strategies)
        self.config_version += 1
        self.alert("info", "config_updated", f"config updated: {', '.join(sorted(changes))}")
        return {"config_version": self.config_version, "overrides": self.overrides}

    def apply_config(self, cfg: Any, records: list[Any]) -> None:
        self.config = cfg
        if self.risk is not None:
            from mevops.engine.risk.limits import RiskLimitsView

            specs = [r.spec for r in records if r.stage == "active" and r.spec.strategy.enabled]
            self.risk.limits = RiskLimitsView.from_config(cfg, specs, chains=[self.chain])
        for hook in (*self.on_config, *self.limiter_hooks):
            hook(cfg)


def overlay_environ(changes: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """``{"global.networking.rpc_timeout": "10s"}`` → the MEVOPS_* variables that set it (on top
    of this process's own), and a map from variable name back to ``api:<dotted key>`` for errors."""
    import json

    environ = dict(os.environ)
    names = {}
    for key, value in changes.items():
        parts = [p for p in key.split(".")]
        if not parts or any(not p or not p.replace("_", "").replace("-", "").isalnum() for p in parts):
            raise InvalidConfig([{"file": "api", "line": None, "key": key, "reason": "not a dotted config key"}])
        var = "MEVOPS_" + "__".join(p.upper() for p in parts)
        environ[var] = "null" if value is None else json.dumps(value)  # JSON is YAML flow syntax
        names[var] = f"api:{key}"
    return environ, names
