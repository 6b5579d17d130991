"""The checks a trade must pass, one pure function per rule.

Each rule looks at a ``Proposal`` (the trade, the limits that apply to it and its USD values)
and the manager's state, and returns a refusal or ``None``. Decisions are made on integers only:
USD micro-dollars, wei, and exact fractions for ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mevops.engine.risk.ledger import ExposureBook, LossLedger
from mevops.engine.risk.limits import DAY, HOUR, ChainView, Limit, RiskLimitsView, StrategyView, eth, gwei, tightest, usd
from mevops.engine.types import ArbTrade


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: str

    def __bool__(self) -> bool:
        return self.allowed

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"


OK = Decision(True, "within every limit", "ok")


def refuse(rule: str, reason: str) -> Decision:
    return Decision(False, reason, rule)


@dataclass(frozen=True)
class Proposal:
    trade: ArbTrade
    strategy: StrategyView
    chain: ChainView
    input_usd: int          # USD value of trade.amount_in
    worst_loss_usd: int     # USD value of worst_gas_wei: the most the trade can lose (see ledger)
    worst_gas_wei: int      # trade.gas_limit * trade.max_fee_per_gas
    eth_denominated: bool   # the token is ETH/WETH: mev.min_profit_threshold applies in wei
    now: float


@dataclass(frozen=True)
class State:
    limits: RiskLimitsView
    book: ExposureBook
    ledger: LossLedger


Rule = Callable[[Proposal, State], "Decision | None"]


def bad_input(p: Proposal, s: State) -> Decision | None:
    t = p.trade
    if p.input_usd < 0 or p.worst_loss_usd < 0:
        return refuse("bad_input", f"negative USD value (input {p.input_usd}, gas {p.worst_loss_usd} micro-USD)")
    if t.amount_in <= 0 or t.gas_limit <= 0 or t.max_fee_per_gas <= 0:
        return refuse("bad_input", "amount_in, gas_limit and max_fee_per_gas must be positive")
    if t.max_priority_fee_per_gas < 0 or t.max_priority_fee_per_gas > t.max_fee_per_gas:
        return refuse("bad_input", f"priority fee {gwei(t.max_priority_fee_per_gas)} is not within 0..max fee {gwei(t.max_fee_per_gas)}")
    return None


def position_size(p: Proposal, s: State) -> Decision | None:
    cap = tightest((p.strategy.max_position.value, p.strategy.max_position.source),
                   (p.chain.max_position.value, p.chain.max_position.source))
    assert cap is not None
    if p.input_usd > cap.value:
        return refuse("position_size", f"position {usd(p.input_usd)} exceeds {usd(cap.value)} ({cap.source})")
    return None


def total_exposure(p: Proposal, s: State) -> Decision | None:
    limit, open_ = s.limits.max_total_exposure, s.book.exposure()
    if open_ + p.input_usd > limit.value:
        return refuse("total_exposure", f"open exposure {usd(open_)} + this {usd(p.input_usd)} "
                                        f"exceeds {usd(limit.value)} ({limit.source})")
    return None


def pending_transactions(p: Proposal, s: State) -> Decision | None:
    limit, pending = p.chain.max_pending, s.book.pending(p.chain.name)
    if pending + 1 > limit.value:
        return refuse("pending_transactions", f"{pending} trades already open on {p.chain.name}, "
                                              f"at most {limit.value} ({limit.source})")
    return None


def gas_price(p: Proposal, s: State) -> Decision | None:
    own = p.strategy.max_gas_price
    cap = tightest((p.chain.max_gas_price.value, p.chain.max_gas_price.source),
                   (own.value if own else None, own.source if own else ""))
    assert cap is not None
    if p.trade.max_fee_per_gas > cap.value:
        return refuse("gas_price", f"max fee {gwei(p.trade.max_fee_per_gas)} exceeds {gwei(cap.value)} ({cap.source})")
    return None


def priority_fee(p: Proposal, s: State) -> Decision | None:
    cap = p.chain.max_priority_fee
    if p.trade.max_priority_fee_per_gas > cap.value:
        return refuse("priority_fee", f"priority fee {gwei(p.trade.max_priority_fee_per_gas)} exceeds "
                                      f"{gwei(cap.value)} ({cap.source})")
    return None


def worst_case_bounded(p: Proposal, s: State) -> Decision | None:
    if p.trade.min_profit < 0:
        return refuse("min_profit_guard", f"min_profit {p.trade.min_profit} < 0: the contract would let the trade "
                                          "lose tokens, so its worst case is not bounded by its gas")
    return None


def min_profit(p: Proposal, s: State) -> Decision | None:
    t, ratio = p.trade, p.strategy.min_profit_ratio
    net = t.net_profit
    if net <= 0:
        return refuse("unprofitable", f"net profit {net} (expected {t.expected_profit} - gas {t.gas_cost}) is not positive")
    if net * ratio.value.denominator < ratio.value.numerator * t.amount_in:
        return refuse("min_profit_ratio", f"net profit / input = {net / t.amount_in:.6g} is below "
                                          f"{float(ratio.value):g} ({ratio.source})")
    floor = p.strategy.min_profit_wei
    if p.eth_denominated and net < floor.value:
        return refuse("min_profit", f"net profit {eth(net)} is below {eth(floor.value)} ({floor.source})")
    return None


def _loss_rule(rule: str, window: int, limit: Limit | None, kind: str | None) -> Rule:
    label = "hour" if window == HOUR else "day"

    def check(p: Proposal, s: State) -> Decision | None:
        if limit is None:
            return None
        realised = s.ledger.loss(p.now, window, kind)
        open_ = s.book.worst_loss(kind)
        if realised + open_ + p.worst_loss_usd > limit.value:
            scope = f"{kind} strategies" if kind else "all strategies"
            return refuse(rule, f"{scope}: realised loss in the last {label} {usd(realised)} + worst case of open "
                                f"trades {usd(open_)} + this trade's worst case {usd(p.worst_loss_usd)} "
                                f"exceeds {usd(limit.value)} ({limit.source})")
        return None

    return check


def losses(p: Proposal, s: State) -> Decision | None:
    kind = p.strategy.type
    own = s.limits.type_loss.get(kind)
    rules = [_loss_rule("hourly_loss", HOUR, s.limits.loss.hourly, None),
             _loss_rule("daily_loss", DAY, s.limits.loss.daily, None)]
    if own is not None:
        rules += [_loss_rule("strategy_hourly_loss", HOUR, own.hourly, kind),
                  _loss_rule("strategy_daily_loss", DAY, own.daily, kind)]
    for rule in rules:
        decision = rule(p, s)
        if decision is not None:
            return decision
    return None


def gas_spend(p: Proposal, s: State) -> Decision | None:
    limit, chain = s.limits.max_gas_spend_daily, p.chain.name
    spent, open_ = s.ledger.gas(p.now, chain), s.book.worst_gas(chain)
    if spent + open_ + p.worst_gas_wei > limit.value:
        return refuse("gas_spend_daily", f"{chain}: gas spent in the last day {eth(spent)} + open {eth(open_)} + this "
                                         f"trade's {eth(p.worst_gas_wei)} exceeds {eth(limit.value)} ({limit.source}; "
                                         "in the chain's native unit)")
    return None


RULES: tuple[Rule, ...] = (bad_input, worst_case_bounded, position_size, total_exposure, pending_transactions,
                           gas_price, priority_fee, min_profit, losses, gas_spend)


def evaluate(p: Proposal, s: State) -> Decision:
    for rule in RULES:
        decision = rule(p, s)
        if decision is not None:
            return decision
    return OK
