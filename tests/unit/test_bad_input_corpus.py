"""A corpus of malformed workspaces: each one exits 2 with `file:line: key: reason`, no traceback,
and nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import snapshot

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)
STRATEGY = "mev/strategies/testing/arbitrage/cross-chain-usdc-arbitrage.yml"


def replace(rel: str, old: str, new: str):
    def mutate(ws: Path) -> None:
        path = ws / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    return mutate


def write(rel: str, content: str | bytes):
    def mutate(ws: Path) -> None:
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return mutate


# (case id, mutation, file expected in the message, fragment expected in the message)
CORPUS = [
    ("duplicate-key", replace("config/global.yml", "  networking:\n", "  logging: {}\n  networking:\n"), "config/global.yml", "duplicate key"),
    ("python-tag", replace("config/global.yml", "retry_attempts: 3", "retry_attempts: !!python/object/apply:os.system [id]"), "config/global.yml", "is not allowed"),
    ("custom-tag", replace("config/global.yml", "retry_attempts: 3", "retry_attempts: !vault 3"), "config/global.yml", "is not allowed"),
    ("tab-indent", replace("config/global.yml", "    rpc_timeout: 30s", "\trpc_timeout: 30s"), "config/global.yml", "tab used for indentation"),
    ("alias-bomb", write("environments/development/overrides.yml", BOMB), "environments/development/overrides.yml", "alias bomb"),
    ("recursive-alias", write("environments/development/overrides.yml", "a: &a\n  b: *a\n"), "environments/development/overrides.yml", "recursive alias"),
    ("binary-garbage", write("mev/config/risk-limits.yml", bytes(range(256)) * 4), "mev/config/risk-limits.yml", "not UTF-8"),
    ("nul-byte", write("mev/config/strategies.yml", "promotion:\x00\n"), "mev/config/strategies.yml", "NUL byte"),
    ("top-level-list", write("mev/config/global.yml", "- engines\n- relays\n"), "mev/config/global.yml", "expected a mapping"),
    ("top-level-scalar", write("mev/config/global.yml", "just a string\n"), "mev/config/global.yml", "expected a mapping"),
    ("two-documents", write("environments/development/overrides.yml", "global: {}\n---\nmev: {}\n"), "environments/development/overrides.yml", "several YAML documents"),
    ("empty-base-config", write("config/global.yml", ""), "config/global.yml", "file is empty"),
    ("syntax-error", write("config/global.yml", "global: [unclosed\n"), "config/global.yml", "yaml:"),
    ("unknown-key", replace("config/global.yml", "  networking:\n", "  netwroking: {}\n  networking:\n"), "config/global.yml", "global.netwroking: unknown key"),
    ("bad-gas-unit", replace("config/global.yml", "max_gas_price: 500 gwei", "max_gas_price: 500 gwie"), "config/global.yml", "mev.max_gas_price: unknown unit 'gwie'"),
    ("negative-amount", replace("config/global.yml", "min_profit_threshold: 0.01 ETH", "min_profit_threshold: -0.01 ETH"), "config/global.yml", "mev.min_profit_threshold"),
    ("finer-than-wei", replace("config/global.yml", "min_profit_threshold: 0.01 ETH", "min_profit_threshold: 0.5 wei"), "config/global.yml", "finer than the smallest unit"),
    ("bad-duration", replace("config/global.yml", "rpc_timeout: 30s", "rpc_timeout: 30 parsecs"), "config/global.yml", "global.networking.rpc_timeout: '30 parsecs' is not a duration"),
    ("bad-rate", replace("config/global.yml", "default: 1000/hour", "default: 1000 per hour"), "config/global.yml", "global.security.api_rate_limits.default"),
    ("fraction-out-of-range", replace("mev/config/risk-limits.yml", "max_slippage: 0.005", "max_slippage: 1.5"), "mev/config/risk-limits.yml", "outside [0, 1)"),
    ("wrong-type", replace("config/global.yml", "retry_attempts: 3", "retry_attempts: three"), "config/global.yml", "global.networking.retry_attempts"),
    ("bad-rotation", replace("config/global.yml", "rotation: daily", "rotation: sometimes"), "config/global.yml", "global.logging.rotation"),
    ("hourly-over-daily", replace("mev/config/risk-limits.yml", "max_hourly_loss: 10000 USD", "max_hourly_loss: 60000 USD"), "mev/config/risk-limits.yml", "exceeds max_daily_loss"),
    ("limits-over-envelope", replace("mev/config/risk-limits.yml", "max_daily_loss: 50000 USD", "max_daily_loss: 90000 USD"), "mev/config/risk-limits.yml", "mev.risk_limits.max_daily_loss"),
    ("wrong-environment", write("environments/development/overrides.yml", "global:\n  environment: production\n"), "environments/development/overrides.yml", "global.environment"),
    ("unknown-chain-in-config", replace("config/global.yml", "  solana:\n", "  dogechain:\n    enabled: true\n  solana:\n"), "config/global.yml", "chains.dogechain: unknown chain"),
    ("client-role-mismatch", replace("config/global.yml", "execution: geth", "execution: lighthouse"), "config/global.yml", "not execution"),
    ("strategy-unknown-chain", replace(STRATEGY, "chains: [ethereum, arbitrum]", "chains: [ethereum, fantom]"), STRATEGY, "parameters.chains[1]: unknown chain 'fantom'"),
    ("strategy-disabled-chain", replace("config/global.yml", "  arbitrum:\n    enabled: true", "  arbitrum:\n    enabled: false"), STRATEGY, "not enabled"),
    ("strategy-path-traversal", replace(STRATEGY, "name: cross-chain-usdc-arbitrage", "name: ../../../etc/passwd"), STRATEGY, "strategy.name: '../../../etc/passwd' is not a valid name"),
    ("strategy-sandwich", write("mev/strategies/research/sandwich/eat-users.yml",
                                "strategy: {name: eat-users, type: sandwich, risk_level: high}\n"
                                "parameters: {chains: [ethereum], max_position_size: 1000 USD}\n"
                                "execution: {engine: arbitrage-engine}\n"), "mev/strategies/research/sandwich/eat-users.yml", "refused"),
    ("strategy-over-limit", replace(STRATEGY, "max_position_size: 100000 USD", "max_position_size: 900000 USD"), STRATEGY, "exceeds strategy_limits.arbitrage.max_position_size"),
    ("strategy-gas-over-chain-limit", replace(STRATEGY, "gas_price_limit: 5 gwei", "gas_price_limit: 50 gwei"), STRATEGY, "exceeds chain_limits.arbitrum.max_gas_price"),
    ("strategy-unknown-engine", replace(STRATEGY, "engine: arbitrage-engine", "engine: warp-drive"), STRATEGY, "execution.engine: unknown engine 'warp-drive'"),
    ("strategy-unknown-asset", replace(STRATEGY, "assets: [USDC, WETH]", "assets: [USDC, SHIB]"), STRATEGY, "asset 'SHIB' is not known"),
    ("strategy-missing-section", write("mev/strategies/research/backrun/no-exec.yml",
                                       "strategy: {name: no-exec, type: backrun, risk_level: low}\n"
                                       "parameters: {chains: [ethereum], max_position_size: 10 USD}\n"),
     "mev/strategies/research/backrun/no-exec.yml", "execution: required key is missing"),
    ("strategy-name-mismatch", write("mev/strategies/research/backrun/file-name.yml",
                                     "strategy: {name: other-name, type: backrun, risk_level: low}\n"
                                     "parameters: {chains: [ethereum], max_position_size: 10 USD}\n"
                                     "execution: {engine: arbitrage-engine}\n"), "mev/strategies/research/backrun/file-name.yml", "is named"),
    ("strategy-gas-limit", replace(STRATEGY, "gas_limit: 400000", "gas_limit: 90000000"), STRATEGY, "execution.gas_limit"),
    ("catalog-unknown-key", replace("chains/bsc.yml", "display_name:", "colour: yellow\ndisplay_name:"), "chains/bsc.yml", "colour: unknown key"),
    ("marker-schema", replace("mevops.yml", "schema_version: 1", "schema_version: 2"), "mevops.yml", "schema_version"),
]


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("case,mutate,file,fragment", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_exits_2_with_located_one_line_error(run, workspace, case, mutate, file, fragment):
    mutate(workspace)
    before = snapshot(workspace)
    result = run("config", "validate", "--env", "development", cwd=workspace)
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.err
    matching = [line for line in lines if fragment in line]
    assert matching, f"{fragment!r} not in:\n{result.err}"
    # file:line: key: reason (the line may be absent only when no line applies)
    assert any(re.match(rf"^error: {re.escape(file)}(:\d+)?: ", line) for line in matching), result.err
    assert snapshot(workspace) == before


def test_env_variable_errors_name_the_variable(run, workspace):
    result = run("config", "validate", cwd=workspace, env={"MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT": "soon"})
    assert result.code == 2
    assert "error: MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT: global.networking.rpc_timeout: 'soon' is not a duration" in result.err


def test_port_collision_between_enabled_chains_is_refused(run, workspace):
    import yaml

    eth = yaml.safe_load((workspace / "chains/ethereum.yml").read_text())
    arb_path = workspace / "chains/arbitrum.yml"
    text = arb_path.read_text()
    nitro_rpc = yaml.safe_load(text)["clients"]["nitro"]["ports"]["rpc"]
    geth_rpc = eth["clients"]["geth"]["ports"]["rpc"]
    arb_path.write_text(text.replace(f"rpc: {nitro_rpc}", f"rpc: {geth_rpc}", 1))
    result = run("config", "validate", cwd=workspace)
    assert result.code == 2
    assert f"host port {geth_rpc} is claimed by ethereum/mainnet/geth.rpc and arbitrum/mainnet/nitro.rpc" in result.err
    # disabling one of the two chains removes the collision
    cfg = workspace / "config/global.yml"
    cfg.write_text(cfg.read_text().replace("  arbitrum:\n    enabled: true", "  arbitrum:\n    enabled: false"))
    strategies = [p for p in (workspace / "mev/strategies").rglob("*.yml") if "arbitrum" in p.read_text() and "/research/" not in str(p)]
    for p in strategies:
        p.unlink()
    assert run("config", "validate", cwd=workspace).code == 0
