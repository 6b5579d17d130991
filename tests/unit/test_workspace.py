from pathlib import Path

import pytest

from mevops.errors import MevopsError
from mevops.workspace import Workspace, find_workspace, resolve_root


def test_found_by_walking_up(workspace, monkeypatch):
    deep = workspace / "mev" / "strategies" / "active"
    monkeypatch.chdir(deep)
    monkeypatch.delenv("MEVOPS_WORKSPACE", raising=False)
    assert find_workspace() == workspace.resolve()


def test_explicit_and_env_override_the_walk(workspace, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    monkeypatch.setenv("MEVOPS_WORKSPACE", str(workspace))
    assert find_workspace() == workspace.resolve()
    with pytest.raises(MevopsError, match="not a mevops workspace"):
        find_workspace(other)


def test_outside_any_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEVOPS_WORKSPACE", raising=False)
    with pytest.raises(MevopsError, match="not inside a mevops workspace"):
        find_workspace()


def test_target_root_precedence(workspace, monkeypatch, tmp_path):
    monkeypatch.delenv("MEVOPS_ROOT", raising=False)
    ws = Workspace.open(workspace)
    assert ws.target_root() == Path("/data/blockchain")
    monkeypatch.setenv("MEVOPS_ROOT", str(tmp_path / "env-root"))
    assert ws.target_root() == tmp_path / "env-root"
    assert ws.target_root(tmp_path / "flag-root") == tmp_path / "flag-root"
    ws.doc.data["target_root"] = "relative/tree"
    monkeypatch.delenv("MEVOPS_ROOT")
    assert ws.target_root() == workspace.resolve() / "relative/tree"
    with pytest.raises(MevopsError, match="no target root"):
        resolve_root(None, None)


def test_environment_selection(workspace, monkeypatch):
    monkeypatch.delenv("MEVOPS_ENV", raising=False)
    ws = Workspace.open(workspace)
    assert ws.environments() == ["development", "production", "staging"]
    assert ws.environment() == "development"
    assert ws.environment("production") == "production"
    monkeypatch.setenv("MEVOPS_ENV", "staging")
    assert ws.environment() == "staging"
    with pytest.raises(MevopsError, match="unknown environment 'qa'"):
        ws.environment("qa")


def test_effective_config_layers(workspace, monkeypatch):
    from mevops.config.validate import effective_config

    ws = Workspace.open(workspace)
    dev, _ = effective_config(ws, "development", {})
    prod, layered = effective_config(ws, "production", {"MEVOPS_GLOBAL__NETWORKING__RPC_TIMEOUT": "5s"})
    assert dev.global_.logging.level == "DEBUG" and prod.global_.logging.level == "WARNING"
    assert prod.global_.environment == "production"
    assert prod.global_.networking.rpc_timeout == 5
    assert dev.global_.networking.rpc_timeout == 30
    assert prod.mev.max_gas_price == 300 * 10**9
    assert dev.mev.min_profit_threshold == 10**16
    assert prod.risk_limits.global_limits.max_daily_loss == 25_000 * 10**6
    assert prod.risk_limits.global_limits.max_total_exposure == 2_500_000 * 10**6  # untouched by overrides
    line = (workspace / "environments/production/overrides.yml").read_text().splitlines().index("  max_gas_price: 300 gwei") + 1
    assert str(layered.origin_of(("mev", "max_gas_price"))).endswith(f"environments/production/overrides.yml:{line}")
