"""Promotion to ``active``: from ``testing`` only, after ``strategy_policy.promotion``'s time in
testing and paper-trading record.

A paper trade is an opportunity the engine simulated and recorded with status ``simulated``
under the strategy's name (``PaperExecutor``); its PnL is the opportunity's ``net_profit`` (token
units, after estimated gas). Only trades since the strategy entered testing (audit trail) count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.errors import MevopsError, Problem
from mevops.strategies import history

if TYPE_CHECKING:
    from mevops.config.models import EffectiveConfig
    from mevops.strategies.store import StrategyRecord

SQLITE = "sqlite:///"


@dataclass
class PaperRecord:
    trades: int = 0
    pnl: dict[str, int] = field(default_factory=dict)   # token → summed net profit
    source: str = ""

    @property
    def positive(self) -> bool:
        return self.trades > 0 and all(total > 0 for total in self.pnl.values())


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{rest // 60}m" if rest >= 60 else ""]
    return "".join(parts) or f"{seconds}s"


def paper_record(url: str, root: Path, strategy: str, since: datetime | None) -> PaperRecord:
    """The strategy's paper trades in the engine store at ``url`` (a relative SQLite path is
    relative to the workspace). A store that does not exist yet holds none; nothing is created."""
    if url.startswith(SQLITE) and not url[len(SQLITE):].startswith("/"):
        path = root / url[len(SQLITE):]
        if not path.is_file():
            return PaperRecord(source=f"{path} (no engine store yet)")
        url = SQLITE + str(path)
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from mevops.engine.store import Store
    from mevops.engine.store.models import Opportunity as O

    record = PaperRecord()
    totals: dict[str, int] = defaultdict(int)
    query = select(O.token, O.net_profit).where(O.strategy == strategy, O.status == "simulated")
    if since is not None:
        query = query.where(O.created_at >= since)
    try:
        with Store(url) as store:
            record.source = repr(store)
            with Session(store.engine) as session:
                for token, net in session.execute(query):
                    record.trades += 1
                    totals[token] += net
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) is not None else exc).splitlines()[0]
        raise MevopsError(Problem(url.split("@")[-1], None, "mev_engine.store.url",
                                  f"cannot read the paper-trading record: {reason}")) from None
    record.pnl = dict(totals)
    return record


def promotion_problems(rec: "StrategyRecord", from_stage: str | None, cfg: "EffectiveConfig", root: Path,
                       at: datetime | None = None) -> list[Problem]:
    """Why ``rec`` may not enter ``active`` now (empty: it may)."""
    where = (rec.doc.file, rec.doc.line_of(("strategy", "name")))
    if from_stage != "testing":
        came = {None: "is not deployed yet", "active": "is already active"}.get(from_stage, f"is in {from_stage}")
        return [Problem(*where, "strategy.name", f"{rec.name!r} {came}: only strategies in testing are promoted "
                        "to active" + ("" if from_stage == "active" else "; deploy it --to testing first"))]
    policy = cfg.strategy_policy.promotion
    problems = []
    since = history.entered(history.read(root, rec.name), "testing")
    now = at or history.now()
    key = "strategy_policy.promotion"
    if policy.min_time_in_testing > 0:
        if since is None:
            problems.append(Problem(*where, f"{key}.min_time_in_testing",
                                    f"{history.HISTORY} does not show when {rec.name!r} entered testing; "
                                    "`mevops strategy deploy PATH --to testing` records it and starts the clock"))
        elif (now - since).total_seconds() < policy.min_time_in_testing:
            problems.append(Problem(*where, f"{key}.min_time_in_testing",
                                    f"in testing for {_duration((now - since).total_seconds())} (since "
                                    f"{since:%Y-%m-%d %H:%M:%S}Z); promotion needs {_duration(policy.min_time_in_testing)}"))
    if policy.min_paper_trades > 0 or policy.require_positive_pnl:
        paper = paper_record(cfg.mev_engine.store.url, root, rec.name, since)
        when = f" since {since:%Y-%m-%d %H:%M:%S}Z" if since else ""
        if paper.trades < policy.min_paper_trades:
            problems.append(Problem(*where, f"{key}.min_paper_trades",
                                    f"{paper.trades} paper trades{when} in the engine store; promotion needs "
                                    f"{policy.min_paper_trades}"))
        if policy.require_positive_pnl and not paper.positive:
            pnl = ", ".join(f"{total} {token}" for token, total in sorted(paper.pnl.items())) or "no trades"
            problems.append(Problem(*where, f"{key}.require_positive_pnl",
                                    f"paper-trading PnL{when} is not positive ({pnl})"))
    return problems
