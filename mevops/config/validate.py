"""Validate a whole workspace: each file's schema, then the rules that span files."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from mevops.config.layering import Layered
from mevops.config.models import EffectiveConfig
from mevops.config.problems import validation_problems
from mevops.config.units import USD_SCALE
from mevops.errors import MevopsError, Problem

if TYPE_CHECKING:
    from mevops.catalog.models import Chain
    from mevops.strategies.store import StrategyRecord
    from mevops.workspace import Workspace


def effective_config(ws: "Workspace", env: str, environ: dict[str, str] | None = None) -> tuple[EffectiveConfig, Layered]:
    """The validated effective configuration of ``env`` and where each value came from."""
    layered = ws.layered_config(env, environ)
    try:
        return EffectiveConfig.model_validate(layered.data), layered
    except ValidationError as exc:
        raise MevopsError(validation_problems(exc, layered.locate)) from None


@dataclass
class Report:
    env: str
    problems: list[Problem] = field(default_factory=list)
    config: EffectiveConfig | None = None
    catalog: dict[str, "Chain"] = field(default_factory=dict)
    strategies: list["StrategyRecord"] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_workspace(ws: "Workspace", env: str, environ: dict[str, str] | None = None) -> Report:
    """Every problem in the workspace for ``env``, in file order; nothing is written."""
    from mevops.catalog import load_catalog
    from mevops.strategies.checks import check_strategies
    from mevops.strategies.store import load_strategies

    report = Report(env)
    try:
        ws.marker  # noqa: B018 - validates mevops.yml
    except MevopsError as exc:
        report.problems.extend(exc.problems)
    try:
        report.catalog = load_catalog(ws.path("chains"))
    except MevopsError as exc:
        report.problems.extend(exc.problems)
    if not report.catalog and not report.problems:
        report.problems.append(Problem("chains/", None, "", "no chain catalog files (chains/<chain>.yml)"))
    layered = None
    try:
        report.config, layered = effective_config(ws, env, environ)
    except MevopsError as exc:
        report.problems.extend(exc.problems)
    strategies, problems = load_strategies(ws)
    report.strategies = strategies
    report.problems.extend(problems)
    if report.config is not None and layered is not None:
        report.problems.extend(config_rules(report.config, layered, report.catalog))
        report.problems.extend(check_strategies(strategies, report.config, layered, report.catalog))
    return report


# -- rules across files ------------------------------------------------------------------------
def _usd(micro: int) -> str:
    return f"{micro / USD_SCALE:,.2f} USD"


def config_rules(cfg: EffectiveConfig, layered: Layered, catalog: dict[str, "Chain"]) -> list[Problem]:
    problems: list[Problem] = []
    problems += _chain_rules(cfg, layered, catalog)
    problems += _port_rules(cfg, layered, catalog)
    problems += _risk_rules(cfg, layered, catalog)
    for name, relay in cfg.mev_engine.relays.items():
        for i, chain in enumerate(relay.chains):
            if chain not in catalog:
                problems.append(layered.problem(("mev_engine", "relays", name, "chains", i), f"unknown chain {chain!r}"))
    return problems


def _chain_rules(cfg: EffectiveConfig, layered: Layered, catalog: dict[str, "Chain"]) -> list[Problem]:
    problems = []
    for name, settings in cfg.chains.items():
        at = ("chains", name)
        chain = catalog.get(name)
        if chain is None:
            if catalog:
                problems.append(layered.problem(at, f"unknown chain (catalog has: {', '.join(sorted(catalog))})"))
            continue
        for i, network in enumerate(settings.networks):
            if network not in chain.networks:
                problems.append(layered.problem(at + ("networks", i), f"{name} has no {network!r} network"))
        for role, client in settings.clients.items():
            if client not in chain.clients:
                problems.append(layered.problem(at + ("clients", role), f"unknown {name} client {client!r} (have: {', '.join(chain.clients)})"))
            elif chain.clients[client].role != role:
                problems.append(layered.problem(at + ("clients", role), f"{client!r} is a {chain.clients[client].role} client, not {role}"))
        for network in settings.backend:
            if network not in settings.networks:
                problems.append(layered.problem(at + ("backend", network), f"network {network!r} is not enabled for {name}"))
    return problems


def _port_rules(cfg: EffectiveConfig, layered: Layered, catalog: dict[str, "Chain"]) -> list[Problem]:
    """No two services of enabled chains may claim one host port."""
    owners: dict[int, list[str]] = defaultdict(list)
    for name, settings in cfg.enabled_chains().items():
        chain = catalog.get(name)
        if chain is None:
            continue
        selected = {r: c for r, c in settings.clients.items() if c in chain.clients and chain.clients[c].role == r}
        for network in settings.networks:
            if network not in chain.networks:
                continue
            for (client, port_name), port in chain.host_ports(network, selected).items():
                owners[port].append(f"{name}/{network}/{client}.{port_name}")
    problems = []
    for port, users in sorted(owners.items()):
        if len(users) > 1:
            chain = users[1].split("/", 1)[0]
            problems.append(layered.problem(("chains", chain), f"host port {port} is claimed by {' and '.join(users)}"))
    return problems


def _risk_rules(cfg: EffectiveConfig, layered: Layered, catalog: dict[str, "Chain"]) -> list[Problem]:
    problems = []
    limits = cfg.risk_limits
    g = limits.global_limits
    envelope = cfg.mev.risk_limits
    at = ("risk_limits", "global_limits")

    def over(path: tuple, value: int, ceiling: int, what: str) -> None:
        if value > ceiling:
            problems.append(layered.problem(path, f"{_usd(value)} exceeds {what} ({_usd(ceiling)})"))

    over(at + ("max_hourly_loss",), g.max_hourly_loss, g.max_daily_loss, "max_daily_loss")
    over(at + ("max_daily_loss",), g.max_daily_loss, envelope.max_daily_loss, "mev.risk_limits.max_daily_loss")
    over(at + ("max_position_size",), g.max_position_size, envelope.max_position_size, "mev.risk_limits.max_position_size")
    over(at + ("max_position_size",), g.max_position_size, g.max_total_exposure, "max_total_exposure")
    for kind, sl in limits.strategy_limits.items():
        sat = ("risk_limits", "strategy_limits", kind)
        over(sat + ("max_position_size",), sl.max_position_size, g.max_position_size, "global_limits.max_position_size")
        over(sat + ("max_daily_loss",), sl.max_daily_loss, g.max_daily_loss, "global_limits.max_daily_loss")
        if sl.max_hourly_loss is not None:
            over(sat + ("max_hourly_loss",), sl.max_hourly_loss, sl.max_daily_loss, "its max_daily_loss")
        if kind == "sandwich":
            problems.append(layered.problem(sat, "sandwich attacks on users are not supported; use sandwich_protection"))
    for chain, cl in limits.chain_limits.items():
        cat = ("risk_limits", "chain_limits", chain)
        if catalog and chain not in catalog:
            problems.append(layered.problem(cat, "unknown chain"))
        if cl.max_gas_price > cfg.mev.max_gas_price:
            problems.append(layered.problem(cat + ("max_gas_price",), f"{cl.max_gas_price / 1e9:g} gwei exceeds mev.max_gas_price ({cfg.mev.max_gas_price / 1e9:g} gwei)"))
        if cl.max_priority_fee > cl.max_gas_price:
            problems.append(layered.problem(cat + ("max_priority_fee",), "exceeds this chain's max_gas_price"))
        over(cat + ("max_position_size",), cl.max_position_size, g.max_position_size, "global_limits.max_position_size")
    return problems
