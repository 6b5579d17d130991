"""`mevops strategy`: a corpus of invalid strategies refused with file:line and nothing moved; the
stage lifecycle (deploy, promote with and without a paper-trading record, archive), production
limits, max_concurrent_strategies, dry runs, diff against git, disable keeping comments.

No engine runs here: every command is pointed at a closed port (engine-facing behaviour is in
test_strategy_engine_api.py)."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import snapshot

VALID = """\
# A new arbitrage strategy, written outside the workspace.
strategy:
  name: weth-dai-cycles
  type: arbitrage
  enabled: true   # trade when active
  risk_level: low

parameters:
  chains: [ethereum]
  assets: [WETH, DAI]
  min_profit_threshold: 0.002
  safety_margin: 0.1
  max_position_size: 300000 USD
  max_slippage: 0.003
  gas_price_limit: 100 gwei

execution:
  engine: arbitrage-engine
  gas_limit: 350000
  priority_fee: 2 gwei
"""
TESTING = "mev/strategies/testing/arbitrage/cross-chain-usdc-arbitrage.yml"
ACTIVE = "mev/strategies/active/arbitrage/eth-usdc-dex-arbitrage.yml"
HISTORY = "mev/strategies/HISTORY.jsonl"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mevops(run, workspace):
    """``mevops(*args, env=...)`` in the workspace, with the engine API on a closed port."""
    quiet = {"MEVOPS_MEV_ENGINE__API__PORT": str(closed_port())}

    def _mevops(*args: str, env: dict[str, str] | None = None):
        return run("strategy", *args, cwd=workspace, env={**quiet, **(env or {})})

    return _mevops


def history(ws: Path) -> list[dict]:
    path = ws / HISTORY
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# -- the corpus ------------------------------------------------------------------------------------
# (id, old text, new text, key, reason fragment, text of the line the problem must point at, env)
CORPUS = [
    ("usd-size-in-eth", "max_position_size: 300000 USD", "max_position_size: 5 ETH", "parameters.max_position_size",
     "unknown unit", "max_position_size:", None),
    ("gas-price-in-usd", "gas_price_limit: 100 gwei", "gas_price_limit: 100 USD", "parameters.gas_price_limit",
     "unknown unit", "gas_price_limit:", None),
    ("unknown-unit", "gas_limit: 350000", "gas_limit: 350000 gas", "execution.gas_limit", "", "gas_limit:", None),
    ("negative-size", "max_position_size: 300000 USD", "max_position_size: -5 USD", "parameters.max_position_size",
     "is not a dollar amount", "max_position_size:", None),
    ("zero-timeout", "  max_slippage: 0.003\n", "  max_slippage: 0.003\n  timeout: 0s\n", "parameters.timeout",
     "greater than zero", "timeout:", None),
    ("over-strategy-limit", "max_position_size: 300000 USD", "max_position_size: 600000 USD", "parameters.max_position_size",
     "exceeds strategy_limits.arbitrage.max_position_size", "max_position_size:", None),
    ("over-global-limit", "max_position_size: 300000 USD", "max_position_size: 2000000 USD", "parameters.max_position_size",
     "exceeds global_limits.max_position_size", "max_position_size:", None),
    ("over-chain-limit", "chains: [ethereum]", "chains: [ethereum, optimism]", "parameters.max_position_size",
     "exceeds chain_limits.optimism.max_position_size", "max_position_size:", None),
    ("gas-over-chain-limit", "gas_price_limit: 100 gwei", "gas_price_limit: 400 gwei", "parameters.gas_price_limit",
     "exceeds chain_limits.ethereum.max_gas_price", "gas_price_limit:", None),
    ("priority-fee-over-chain-limit", "priority_fee: 2 gwei", "priority_fee: 50 gwei", "execution.priority_fee",
     "exceeds chain_limits.ethereum.max_priority_fee", "priority_fee:", None),
    ("slippage-over-limit", "max_slippage: 0.003", "max_slippage: 0.009", "parameters.max_slippage",
     "exceeds strategy_limits.arbitrage.max_slippage", "max_slippage:", None),
    ("profit-below-ratio", "min_profit_threshold: 0.002", "min_profit_threshold: 0.0001", "parameters.min_profit_threshold",
     "below strategy_limits.arbitrage.min_profit_ratio", "min_profit_threshold:", None),
    ("safety-margin-below", "safety_margin: 0.1", "safety_margin: 0.05", "parameters.safety_margin",
     "below strategy_limits.arbitrage.safety_margin", "safety_margin:", None),
    ("fraction-out-of-range", "max_slippage: 0.003", "max_slippage: 1.5", "parameters.max_slippage", "outside [0, 1)",
     "max_slippage:", None),
    ("gas-limit-out-of-range", "gas_limit: 350000", "gas_limit: 50000000", "execution.gas_limit", "30000000",
     "gas_limit:", None),
    ("unknown-chain", "chains: [ethereum]", "chains: [ethereum, fantom]", "parameters.chains[1]", "unknown chain 'fantom'",
     "chains:", None),
    ("disabled-chain", "chains: [ethereum]", "chains: [ethereum, arbitrum]", "parameters.chains[1]",
     "chain 'arbitrum' is not enabled", "chains:", {"MEVOPS_CHAINS__ARBITRUM__ENABLED": "false"}),
    ("unknown-engine", "engine: arbitrage-engine", "engine: warp-drive", "execution.engine", "unknown engine 'warp-drive'",
     "engine:", None),
    ("engine-does-not-run-type", "engine: arbitrage-engine", "engine: liquidation-engine", "execution.engine",
     "does not run arbitrage strategies", "engine:", None),
    ("unknown-asset", "assets: [WETH, DAI]", "assets: [WETH, SHIB]", "parameters.assets[1]", "'SHIB' is not known",
     "assets:", None),
    ("path-traversal-name", "name: weth-dai-cycles", "name: ../../x", "strategy.name", "is not a valid name", "name:", None),
    ("slash-in-name", "name: weth-dai-cycles", "name: a/b", "strategy.name", "is not a valid name", "name:", None),
    ("sandwich-attack", "type: arbitrage", "type: sandwich", "strategy.type", "sandwich attacks", "type:", None),
    ("unknown-key", "max_slippage: 0.003", "max_slippage: 0.003\n  max_positon_size: 1 USD", "parameters.max_positon_size",
     "unknown key", "max_positon_size:", None),
    ("unknown-section", "execution:\n", "execuiton: {}\nexecution:\n", "execuiton", "unknown key", "execuiton:", None),
    ("duplicate-key", "max_slippage: 0.003", "max_slippage: 0.003\n  max_slippage: 0.002", "parameters.max_slippage",
     "duplicate key (first defined on line 14)", "max_slippage: 0.002", None),
    ("malformed-yaml", "  chains: [ethereum]", "  chains: [ethereum", "yaml", "", "assets:", None),
    ("tab-indent", "  engine: arbitrage-engine", "\tengine: arbitrage-engine", "yaml", "tab used for indentation",
     "engine:", None),
    ("python-tag", "max_slippage: 0.003", "max_slippage: !!python/object/apply:os.system [id]", "parameters.max_slippage",
     "is not allowed", "max_slippage:", None),
    ("missing-section", "execution:\n  engine: arbitrage-engine\n  gas_limit: 350000\n  priority_fee: 2 gwei\n", "",
     "execution", "required key is missing", "strategy:", None),
    ("wrong-type-enabled", "enabled: true   # trade when active", "enabled: sometimes", "strategy.enabled", "",
     "enabled:", None),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_invalid_strategies_are_refused_with_file_line_and_nothing_moved(case, mevops, workspace, tmp_path):
    _, old, new, key, reason, marker, env = case
    assert old in VALID
    text = VALID.replace(old, new, 1)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    path = scratch / "candidate.yml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if marker in t) if marker else None
    where = f"{path}:{line}: {key}" if line else f"{path}: {key}"
    before = snapshot(workspace)
    for args in (("validate", str(path)), ("deploy", str(path), "--to", "testing"),
                 ("deploy", str(path), "--to", "testing", "--dry-run")):
        result = mevops(*args, env=env)
        assert result.code == 2, (args, result.out, result.err)
        assert "Traceback" not in result.err
        errors = [e for e in result.err.splitlines() if e.startswith("error: ")]
        assert any(e.startswith(f"error: {where}") and reason in e for e in errors), (where, reason, result.err)
        assert snapshot(workspace) == before
        assert path.read_text() == text


def test_the_same_corpus_inside_the_workspace_stays_where_it_is(mevops, workspace):
    path = workspace / "mev/strategies/research/arbitrage/weth-dai-cycles.yml"
    path.parent.mkdir(parents=True)
    path.write_text(VALID.replace("max_position_size: 300000 USD", "max_position_size: 900000 USD"))
    before = snapshot(workspace)
    result = mevops("deploy", "mev/strategies/research/arbitrage/weth-dai-cycles.yml", "--to", "testing")
    assert result.code == 2
    assert ("error: mev/strategies/research/arbitrage/weth-dai-cycles.yml:13: parameters.max_position_size: "
            "900,000.00 USD") in result.err
    assert snapshot(workspace) == before


def test_misplaced_file_in_the_workspace_is_a_validate_problem(mevops, workspace):
    path = workspace / "mev/strategies/testing/backrun/weth-dai-cycles.yml"
    path.parent.mkdir(parents=True)
    path.write_text(VALID)
    result = mevops("validate", "mev/strategies/testing/backrun/weth-dai-cycles.yml")
    assert result.code == 2
    assert ("mev/strategies/testing/backrun/weth-dai-cycles.yml:4: strategy.type: is 'arbitrage' but the file is in the "
            "'backrun' directory") in result.err


def test_validate_accepts_the_reference_strategies_and_sandwich_protection(mevops, workspace):
    files = [ACTIVE, TESTING, "mev/strategies/active/sandwich_protection/private-flow-guard.yml"]
    result = mevops("validate", *files)
    assert result.code == 0, result.err
    assert result.out.count("ok: ") == 3
    result = mevops("validate", *files, "--json")
    assert json.loads(result.out)["ok"] is True


def test_unsafe_names_and_wrong_suffix_are_refused(mevops, workspace, tmp_path):
    before = snapshot(workspace)
    for verb in ("promote", "archive", "diff", "disable"):
        result = mevops(verb, "../../x")
        assert result.code == 2 and "is not a valid name" in result.err, (verb, result.err)
    text_file = tmp_path / "strategy.txt"
    text_file.write_text(VALID)
    result = mevops("deploy", str(text_file), "--to", "testing")
    assert result.code == 2 and "strategy files end in .yml" in result.err
    result = mevops("deploy", str(text_file), "--to", "archived")
    assert result.code == 2 and "deploy to testing or active" in result.err
    assert snapshot(workspace) == before


# -- the lifecycle -----------------------------------------------------------------------------------
def test_deploy_from_outside_moves_the_file_in_and_audits(mevops, workspace, tmp_path):
    source = tmp_path / "weth-dai-cycles.yml"
    source.write_text(VALID)
    result = mevops("deploy", str(source), "--to", "testing", "--reason", "new pair")
    assert result.code == 0, result.err
    target = workspace / "mev/strategies/testing/arbitrage/weth-dai-cycles.yml"
    assert target.read_text() == VALID and not source.exists()
    assert "no engine running" in result.out
    [entry] = history(workspace)
    assert entry["strategy"] == "weth-dai-cycles" and entry["from"] is None and entry["to"] == "testing"
    assert entry["reason"] == "new pair" and entry["action"] == "deploy" and entry["who"]
    import hashlib

    assert entry["sha256"] == hashlib.sha256(VALID.encode()).hexdigest()
    assert entry["path"] == "mev/strategies/testing/arbitrage/weth-dai-cycles.yml"
    # the loader ignores the trail; the workspace stays valid
    check = mevops("list", "--json")
    assert check.code == 0 and check.err == ""
    assert {"name": "weth-dai-cycles", "stage": "testing"}.items() <= next(
        r for r in json.loads(check.out) if r["name"] == "weth-dai-cycles").items()
    # deploying the same file again changes nothing and records nothing
    again = mevops("deploy", "mev/strategies/testing/arbitrage/weth-dai-cycles.yml", "--to", "testing")
    assert again.code == 0 and "(no change)" in again.out
    assert len(history(workspace)) == 1


def test_one_file_one_place_a_new_version_replaces_the_deployed_copy(mevops, workspace, tmp_path):
    edited = tmp_path / "edited.yml"
    edited.write_text((workspace / TESTING).read_text().replace("max_position_size: 100000 USD", "max_position_size: 90000 USD"))
    # a stray copy in research as well: both must go, one file stays
    stray = workspace / "mev/strategies/research/arbitrage/cross-chain-usdc-arbitrage.yml"
    stray.parent.mkdir(parents=True)
    stray.write_text((workspace / TESTING).read_text())
    untested = mevops("deploy", str(edited), "--to", "active", "--dry-run")
    assert untested.code == 2 and f"error: {edited}:4: strategy.name: differs from the copy in testing ({TESTING})" in untested.err
    result = mevops("deploy", str(edited), "--to", "testing", "--dry-run")
    assert result.code == 0, result.err
    assert "-  max_position_size: 100000 USD\n+  max_position_size: 90000 USD" in result.out
    assert "remove mev/strategies/research/arbitrage/cross-chain-usdc-arbitrage.yml" in result.out
    result = mevops("deploy", str(edited), "--to", "testing")
    assert result.code == 0, result.err
    files = sorted(str(p.relative_to(workspace)) for p in workspace.rglob("cross-chain-usdc-arbitrage.y*ml"))
    assert files == [TESTING]
    assert "90000 USD" in (workspace / TESTING).read_text()
    assert not stray.parent.exists()  # the emptied type directory goes, the stage directory stays
    assert (workspace / "mev/strategies/research").is_dir()


def test_production_overrides_refuse_what_development_accepts(mevops, workspace, tmp_path):
    source = tmp_path / "weth-dai-cycles.yml"
    source.write_text(VALID)
    before = snapshot(workspace)
    prod = mevops("deploy", str(source), "--to", "testing", "--env", "production")
    assert prod.code == 2
    assert (f"error: {source}:13: parameters.max_position_size: 300,000.00 USD exceeds "
            "strategy_limits.arbitrage.max_position_size (250,000.00 USD) in production") in prod.err
    assert snapshot(workspace) == before and source.exists()
    dev = mevops("deploy", str(source), "--to", "testing", "--env", "development")
    assert dev.code == 0, dev.err


def seed_paper_trades(ws: Path, strategy: str, profits: list[int], at: datetime | None = None) -> None:
    """Paper trades as the engine's PaperExecutor records them (``at``: backdated)."""
    from mevops.engine.store import Store
    from mevops.engine.types import ArbTrade, Hop

    with Store(f"sqlite:///{ws / 'mev/data/engine.db'}") as store:
        store.migrate()
        for i, profit in enumerate(profits):
            hop = Hop(pool="0x" + "11" * 20, token_in="0x" + "22" * 20, token_out="0x" + "33" * 20, zero_for_one=True, fee_bps=30)
            trade = ArbTrade(strategy=strategy, chain="ethereum", token="0x" + "22" * 20, hops=(hop,), amount_in=10**18,
                             expected_out=10**18 + profit + 10**15, expected_profit=profit + 10**15, gas_cost=10**15,
                             min_profit=1, gas_limit=300000, max_fee_per_gas=10**9, max_priority_fee_per_gas=10**9, block=100 + i)
            if at is None:
                opportunity = store.record_trade_opportunity(trade)
            else:
                opportunity = store.record_opportunity(chain=trade.chain, strategy=strategy, block=trade.block, cycle={},
                                                       token=trade.token, amount_in=trade.amount_in,
                                                       expected_profit=trade.expected_profit, net_profit=trade.net_profit, at=at)
            store.set_opportunity_status(opportunity, "simulated", "paper trade")


def age_history(ws: Path, days: float) -> None:
    """Pretend the trail's entries happened ``days`` earlier (the clock of min_time_in_testing)."""
    lines = []
    for entry in history(ws):
        at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00")) - timedelta(days=days)
        lines.append(json.dumps({**entry, "at": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}))
    (ws / HISTORY).write_text("\n".join(lines) + "\n")


def test_research_to_testing_to_active_with_a_paper_trading_record(mevops, workspace):
    research = workspace / "mev/strategies/research/arbitrage/weth-dai-cycles.yml"
    research.parent.mkdir(parents=True)
    research.write_text(VALID)
    # research cannot jump to active
    skip = mevops("deploy", "mev/strategies/research/arbitrage/weth-dai-cycles.yml", "--to", "active")
    assert skip.code == 2 and "is in research: only strategies in testing are promoted to active" in skip.err
    # paper trades from before it entered testing do not count
    seed_paper_trades(workspace, "weth-dai-cycles", [10**16] * 25, at=datetime.now(UTC) - timedelta(days=10))
    assert mevops("deploy", "mev/strategies/research/arbitrage/weth-dai-cycles.yml", "--to", "testing").code == 0
    testing = "mev/strategies/testing/arbitrage/weth-dai-cycles.yml"
    early = mevops("promote", "weth-dai-cycles")
    assert early.code == 2
    problems = [e for e in early.err.splitlines() if e.startswith("error:")]
    assert len(problems) == 3, early.err
    assert f"error: {testing}:3: strategy_policy.promotion.min_time_in_testing: in testing for " in problems[0]
    assert "promotion needs 1d" in problems[0]
    assert "min_paper_trades: 0 paper trades since" in problems[1] and "promotion needs 20" in problems[1]
    assert "require_positive_pnl: paper-trading PnL since" in problems[2]
    # 19 good paper trades, a day later: one short
    seed_paper_trades(workspace, "weth-dai-cycles", [10**16] * 19)
    age_history(workspace, 1.5)
    short = mevops("promote", "weth-dai-cycles")
    assert short.code == 2
    assert [e for e in short.err.splitlines() if e.startswith("error:")] == [
        f"error: {testing}:3: strategy_policy.promotion.min_paper_trades: 19 paper trades since "
        + short.err.split("paper trades since ")[1].split(" in the engine")[0] + " in the engine store; promotion needs 20"]
    # another strategy's trades and failed simulations do not count
    seed_paper_trades(workspace, "someone-else", [10**16] * 5)
    seed_paper_trades(workspace, "weth-dai-cycles", [10**16])
    dry = mevops("promote", "weth-dai-cycles", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"move {testing} -> mev/strategies/active/arbitrage/weth-dai-cycles.yml" in dry.out
    result = mevops("promote", "weth-dai-cycles", "--reason", "20 good paper trades")
    assert result.code == 0, result.err
    assert (workspace / "mev/strategies/active/arbitrage/weth-dai-cycles.yml").read_text() == VALID
    assert not (workspace / testing).exists() and not research.exists()
    assert [(e["from"], e["to"], e["action"]) for e in history(workspace)] == [
        ("research", "testing", "deploy"), ("testing", "active", "promote")]


def test_losing_paper_record_is_not_promoted(mevops, workspace):
    assert mevops("deploy", TESTING, "--to", "testing").code == 0   # starts the clock for a reference strategy
    age_history(workspace, 2)
    seed_paper_trades(workspace, "cross-chain-usdc-arbitrage", [10**16] * 15 + [-10**17] * 5)
    before = snapshot(workspace)
    result = mevops("promote", "cross-chain-usdc-arbitrage")
    assert result.code == 2
    errors = [e for e in result.err.splitlines() if e.startswith("error:")]
    assert len(errors) == 1 and "require_positive_pnl: paper-trading PnL since" in errors[0]
    assert "is not positive (-350000000000000000 0x2222" in errors[0]
    assert snapshot(workspace) == before


def test_promotion_without_history_explains_how_to_start_the_clock(mevops, workspace):
    result = mevops("promote", "cross-chain-usdc-arbitrage")
    assert result.code == 2
    assert ("min_time_in_testing: mev/strategies/HISTORY.jsonl does not show when 'cross-chain-usdc-arbitrage' entered "
            "testing") in result.err
    assert not (workspace / HISTORY).exists()
    assert mevops("promote", "eth-usdc-dex-arbitrage").code == 2


def relax_promotion(ws: Path) -> None:
    """A promotion policy without time or paper-trading requirements."""
    policy = ws / "mev/config/strategies.yml"
    policy.write_text(policy.read_text().replace("min_paper_trades: 20", "min_paper_trades: 0")
                      .replace("require_positive_pnl: true", "require_positive_pnl: false")
                      .replace("min_time_in_testing: 1d", "min_time_in_testing: 0s"))


def test_policy_without_paper_requirements_promotes_after_the_time(mevops, workspace):
    relax_promotion(workspace)
    assert mevops("deploy", TESTING, "--to", "testing").code == 0
    result = mevops("promote", "cross-chain-usdc-arbitrage")
    assert result.code == 0, result.err
    assert not (workspace / "mev/data").exists()  # no store was read, none created


def test_max_concurrent_strategies_counts_the_result_of_the_deploy(mevops, workspace):
    overrides = workspace / "environments/development/overrides.yml"
    overrides.write_text(overrides.read_text().replace("max_concurrent_strategies: 20", "max_concurrent_strategies: 2"))
    line = overrides.read_text().splitlines().index("  max_concurrent_strategies: 2") + 1
    policy = workspace / "mev/config/strategies.yml"
    policy.write_text(policy.read_text().replace("min_time_in_testing: 1d", "min_time_in_testing: 0s"))
    before = snapshot(workspace)
    result = mevops("promote", "cross-chain-usdc-arbitrage")
    assert result.code == 2
    assert (f"error: environments/development/overrides.yml:{line}: mev.max_concurrent_strategies: "
            "'cross-chain-usdc-arbitrage' would be active strategy 3 of at most 2 in development") in result.err
    assert snapshot(workspace) == before
    # archiving one frees a place; the limit no longer stands in the way (the paper record does)
    assert mevops("archive", "private-flow-guard").code == 0
    again = mevops("promote", "cross-chain-usdc-arbitrage")
    assert again.code == 2 and "max_concurrent_strategies" not in again.err and "min_paper_trades" in again.err
    # a redeploy of an active strategy does not count itself twice
    assert mevops("deploy", ACTIVE, "--to", "active").code == 0


def test_dry_runs_write_nothing(mevops, workspace, tmp_path):
    source = tmp_path / "weth-dai-cycles.yml"
    source.write_text(VALID)
    before = snapshot(workspace)
    for args in (("deploy", str(source), "--to", "testing", "--dry-run"), ("archive", "eth-usdc-dex-arbitrage", "--dry-run"),
                 ("deploy", ACTIVE, "--to", "testing", "--dry-run"), ("disable", "eth-usdc-dex-arbitrage", "--dry-run")):
        result = mevops(*args)
        assert result.code == 0, (args, result.err)
        assert "nothing written" in result.out
    assert snapshot(workspace) == before and source.read_text() == VALID
    disable = mevops("disable", "eth-usdc-dex-arbitrage", "--dry-run")
    assert "-  enabled: true\n+  enabled: false" in disable.out


def test_a_damaged_audit_trail_stops_a_move_before_anything_moves(mevops, workspace):
    (workspace / HISTORY).write_text('{"at": "yesterday"}\n')
    before = snapshot(workspace)
    result = mevops("archive", "eth-usdc-dex-arbitrage")
    assert result.code == 2 and "error: mev/strategies/HISTORY.jsonl:1: not an audit entry" in result.err
    assert snapshot(workspace) == before


def test_archive_moves_and_audits(mevops, workspace):
    result = mevops("archive", "eth-usdc-dex-arbitrage", "--reason", "fees changed")
    assert result.code == 0, result.err
    assert (workspace / "mev/strategies/archived/arbitrage/eth-usdc-dex-arbitrage.yml").is_file()
    assert not (workspace / ACTIVE).exists()
    assert history(workspace)[-1] | {"at": None, "who": None} == {
        "at": None, "who": None, "action": "archive", "strategy": "eth-usdc-dex-arbitrage", "from": "active",
        "to": "archived", "path": "mev/strategies/archived/arbitrage/eth-usdc-dex-arbitrage.yml", "source": ACTIVE,
        "sha256": history(workspace)[-1]["sha256"], "reason": "fees changed", "env": "development"}
    listed = json.loads(mevops("list", "--stage", "archived", "--json").out)
    assert {r["name"] for r in listed} == {"eth-usdc-dex-arbitrage", "stable-triangle-v1"}
    assert all(r["loaded"] is None for r in listed)
    assert mevops("archive", "eth-usdc-dex-arbitrage").code == 0   # idempotent
    assert len(history(workspace)) == 1


def test_list_table(mevops, workspace):
    result = mevops("list")
    assert result.code == 0, result.err
    assert "eth-usdc-dex-arbitrage" in result.out and "not running" in result.out
    assert mevops("list", "--stage", "production").code == 2


# -- diff ------------------------------------------------------------------------------------------
def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(ws), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_diff_against_the_last_committed_copy(mevops, workspace):
    no_git = mevops("diff", "eth-usdc-dex-arbitrage")
    assert no_git.code == 2 and "nothing to compare with" in no_git.err and "not a git repository" in no_git.err
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "workspace")
    same = mevops("diff", "eth-usdc-dex-arbitrage", "--exit-code")
    assert same.code == 0 and "no differences" in same.out
    path = workspace / ACTIVE
    path.write_text(path.read_text().replace("max_slippage: 0.003", "max_slippage: 0.002"))
    changed = mevops("diff", "eth-usdc-dex-arbitrage", "--exit-code")
    assert changed.code == 1
    assert f"--- HEAD:{ACTIVE}\n+++ {ACTIVE}" in changed.out
    assert "-  max_slippage: 0.003\n+  max_slippage: 0.002" in changed.out
    # moved since the commit: compared with the committed copy where it was
    assert mevops("archive", "eth-usdc-dex-arbitrage").code == 0
    moved = json.loads(mevops("diff", "eth-usdc-dex-arbitrage", "--json").out)
    assert moved["against"] == "git" and moved["note"] == f"committed at {ACTIVE}" and not moved["same"]
    # never committed: everything is new
    (workspace / "mev/strategies/research/arbitrage").mkdir(parents=True)
    (workspace / "mev/strategies/research/arbitrage/weth-dai-cycles.yml").write_text(VALID)
    new = mevops("diff", "weth-dai-cycles")
    assert new.code == 0 and "--- /dev/null" in new.out and "is not committed at HEAD" in new.out


# -- disable ---------------------------------------------------------------------------------------
def test_disable_edits_one_line_and_keeps_comments(mevops, workspace, tmp_path):
    source = tmp_path / "weth-dai-cycles.yml"
    source.write_text(VALID)
    assert mevops("deploy", str(source), "--to", "testing").code == 0
    path = workspace / "mev/strategies/testing/arbitrage/weth-dai-cycles.yml"
    result = mevops("disable", "weth-dai-cycles", "--reason", "odd fills")
    assert result.code == 0, result.err
    assert "mev/strategies/testing/arbitrage/weth-dai-cycles.yml:5: strategy.enabled: set to false" in result.out
    assert "no engine running" in result.out
    assert path.read_text() == VALID.replace("enabled: true   # trade when active", "enabled: false   # trade when active")
    entry = history(workspace)[-1]
    assert (entry["action"], entry["from"], entry["to"], entry["reason"]) == ("disable", "testing", "testing", "odd fills")
    # idempotent: the file already says false, nothing more is written or recorded
    before = snapshot(workspace)
    again = mevops("disable", "weth-dai-cycles")
    assert again.code == 0 and "already enabled: false" in again.out
    assert snapshot(workspace) == before


def test_disable_edits_a_flow_mapping(mevops, workspace):
    path = workspace / ACTIVE
    text = path.read_text()
    header = text[text.index("strategy:"):text.index("\nparameters:")]
    flow = ("strategy: {name: eth-usdc-dex-arbitrage, type: arbitrage, subtype: dex_cycle, enabled: yes, "
            "risk_level: low}  # one line\n")
    path.write_text(text.replace(header + "\n", flow))
    result = mevops("disable", "eth-usdc-dex-arbitrage")
    assert result.code == 0, result.err
    assert "enabled: false, risk_level: low}  # one line" in path.read_text()
    assert mevops("validate", ACTIVE).code == 0
