"""The render's input cache: validated snapshots reused across processes, invalidated by any input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mevops.errors import MevopsError
from mevops.render.inputs import input_fingerprint, load_inputs, validate_inputs
from mevops.workspace import Workspace

ENV = "development"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch) -> Path:
    for key in [k for k in __import__("os").environ if k.startswith("MEVOPS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mevops" / "inputs"


def test_snapshots_match_the_validated_models(workspace):
    from mevops.config.validate import validate_workspace

    ws = Workspace.open(workspace)
    report = validate_workspace(ws, ENV)
    snap = validate_inputs(ws, ENV)
    assert snap.config.model_dump(mode="json", by_alias=True) == report.config.model_dump(mode="json", by_alias=True)
    assert snap.config.model_dump(mode="json") == report.config.model_dump(mode="json")
    assert snap.config.mev_engine.api.model_dump(mode="json") == report.config.mev_engine.api.model_dump(mode="json")
    assert list(snap.config.enabled_chains()) == list(report.config.enabled_chains())
    for name, chain in report.catalog.items():
        copy = snap.catalog[name]
        assert copy.model_dump(mode="json") == chain.model_dump(mode="json")
        for network in chain.networks:
            assert copy.clients_for(network) == chain.clients_for(network)
            assert copy.host_ports(network) == chain.host_ports(network)
    assert [r.spec.model_dump(mode="json") for r in snap.strategies] == [r.spec.model_dump(mode="json") for r in report.strategies]
    dumped = snap.config.model_dump(mode="json")
    dumped["mev"]["max_gas_price"] = -1  # a copy: the snapshot is not changed through it
    assert snap.config.model_dump(mode="json") != dumped
    with pytest.raises(NotImplementedError):
        snap.config.model_dump()


def test_second_load_reads_the_cache_without_pydantic(workspace, own_cache):
    ws = Workspace.open(workspace)
    first = load_inputs(ws, ENV)
    assert not first.cached and len(list(own_cache.iterdir())) == 1
    assert load_inputs(ws, ENV).cached
    code = (
        "import sys; from mevops.workspace import Workspace; from mevops.render.inputs import load_inputs;"
        f"i = load_inputs(Workspace.open({str(workspace)!r}), {ENV!r});"
        "assert i.cached and 'pydantic' not in sys.modules, sorted(m for m in sys.modules if 'pydantic' in m)[:3];"
        "print(sorted(i.config.enabled_chains()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(first.config.enabled_chains()))


def test_any_input_change_invalidates(workspace, monkeypatch):
    ws = Workspace.open(workspace)
    level = load_inputs(ws, ENV).config.global_.logging.level
    assert level != "CRITICAL"
    before = input_fingerprint(ws, ENV)

    monkeypatch.setenv("MEVOPS_GLOBAL__LOGGING__LEVEL", "critical")  # MEVOPS_* variables layer the config
    again = load_inputs(ws, ENV)
    assert not again.cached and again.config.global_.logging.level == "CRITICAL"
    assert load_inputs(ws, ENV).cached
    monkeypatch.delenv("MEVOPS_GLOBAL__LOGGING__LEVEL")
    assert load_inputs(ws, ENV).config.global_.logging.level == level

    path = workspace / "config" / "global.yml"
    path.write_text(path.read_text().replace("  solana:\n    enabled: true", "  solana:\n    enabled: false"))
    changed = load_inputs(ws, ENV)
    assert not changed.cached and "solana" not in changed.config.enabled_chains()
    assert input_fingerprint(ws, ENV) != before

    (workspace / "chains" / "extra-notes.txt").write_text("not yaml, but read by nobody: still an input file\n")
    assert not load_inputs(ws, ENV).cached

    other = load_inputs(ws, "staging")  # one entry per environment
    assert not other.cached and other.config.global_.environment == "staging"
    assert load_inputs(ws, ENV).cached


def test_invalid_workspace_is_reported_and_not_cached(workspace, own_cache):
    ws = Workspace.open(workspace)
    path = workspace / "config" / "global.yml"
    path.write_text(path.read_text().replace("  solana:\n    enabled: true", "  solana:\n    enabled: maybe"))
    for _ in range(2):
        with pytest.raises(MevopsError) as err:
            load_inputs(ws, ENV)
        assert "enabled" in str(err.value.problems)
    assert not list(own_cache.iterdir())


def test_damaged_or_foreign_entries_are_misses(workspace, own_cache):
    ws = Workspace.open(workspace)
    load_inputs(ws, ENV)
    (entry,) = own_cache.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600 and own_cache.stat().st_mode & 0o777 == 0o700
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])  # truncated
    assert not load_inputs(ws, ENV).cached
    assert load_inputs(ws, ENV).cached
    head, _, body = entry.read_bytes().partition(b"\n")
    entry.write_bytes(head[:-4] + b"0000\n" + body)  # another state's entry
    assert not load_inputs(ws, ENV).cached
    entry.write_bytes(head + b"\nnot a pickle")
    assert not load_inputs(ws, ENV).cached


def test_unwritable_cache_still_renders(workspace, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir fails: no cache at all
    ws = Workspace.open(workspace)
    assert not load_inputs(ws, ENV).cached
    assert not load_inputs(ws, ENV).cached


def test_cached_and_validated_renders_are_identical(workspace, tmp_path):
    from mevops.reference import templates_root
    from mevops.render.plan import plan_tree
    from mevops.render.run import RenderRequest, load_context

    ws = Workspace.open(workspace)
    for env in ("development", "production"):
        req = RenderRequest(tmp_path / "root", env)
        cold = plan_tree(templates_root(), load_context(ws, req))[0]
        warm = plan_tree(templates_root(), load_context(ws, req))[0]
        assert len(cold) > 100 and cold == warm


def test_render_cli_uses_and_refreshes_the_cache(workspace, tmp_path, run, own_cache):
    assert run("render", "--root", tmp_path / "a", cwd=workspace).code == 0
    assert run("render", "--root", tmp_path / "b", cwd=workspace).code == 0  # from the cache
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file() and ".mevops" not in p.parts)
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file() and ".mevops" not in p.parts)
    compose = "nodes/chains/ethereum/deployment/docker-compose.yml"
    assert (tmp_path / "a" / compose).read_text().replace(str(tmp_path / "a"), "ROOT") == \
        (tmp_path / "b" / compose).read_text().replace(str(tmp_path / "b"), "ROOT")
    path = workspace / "config" / "global.yml"
    path.write_text(path.read_text().replace("  solana:\n    enabled: true", "  solana:\n    enabled: false"))
    result = run("render", "--root", tmp_path / "a", cwd=workspace)
    assert result.code == 0 and "remove" in result.out
    assert not (tmp_path / "a" / "nodes/chains/solana/deployment/docker-compose.yml").exists()


def test_pending_inputs_validate_in_another_process(workspace, own_cache, monkeypatch):
    from mevops.render.inputs import PendingInputs

    monkeypatch.setattr("mevops.render.worker.can_fork", lambda: True)  # threads other tests left are harmless here

    ws = Workspace.open(workspace)
    fingerprint = input_fingerprint(ws, ENV)
    pending = PendingInputs(ws, ENV, fingerprint)
    assert pending.validating and pending.pid not in (None, __import__("os").getpid())
    try:
        got = pending.result()
    finally:
        pending.close()
    assert pending.pid is None  # reaped
    assert got.config == validate_inputs(ws, ENV).config and not got.cached
    assert len(list(own_cache.iterdir())) == 1  # the worker stored it
    again = PendingInputs(ws, ENV, fingerprint)
    assert not again.validating and again.pid is None and again.result().cached


def test_pending_inputs_report_problems_of_an_invalid_workspace(workspace, own_cache, monkeypatch):
    from mevops.render.inputs import PendingInputs

    monkeypatch.setattr("mevops.render.worker.can_fork", lambda: True)

    path = workspace / "config" / "global.yml"
    path.write_text(path.read_text().replace("  solana:\n    enabled: true", "  solana:\n    enabled: maybe"))
    ws = Workspace.open(workspace)
    pending = PendingInputs(ws, ENV, input_fingerprint(ws, ENV))
    assert pending.pid is not None
    with pytest.raises(MevopsError) as err:
        pending.result()
    assert "enabled" in str(err.value.problems) and pending.pid is None
    pending.close()
    assert not list(own_cache.iterdir())


def _cli(*args: str, cwd: Path, cache: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``mevops ARGS`` as a program (the only way the early validator starts: ``render.prefork``)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MEVOPS_")}
    env.update(XDG_CACHE_HOME=str(cache.parent.parent), **(extra or {}))
    return subprocess.run([sys.executable, "-m", "mevops", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text().replace(str(root), "ROOT")
            for p in sorted(root.rglob("*")) if p.is_file() and ".mevops" not in p.parts and p.suffix != ".hex"}


def test_cli_program_validates_early_with_the_same_result(workspace, tmp_path, own_cache, run):
    assert run("render", "--root", tmp_path / "inproc", cwd=workspace).code == 0  # in-process: no early validator
    for entry in own_cache.iterdir():
        entry.unlink()
    cold = _cli("render", "--root", str(tmp_path / "cold"), cwd=workspace, cache=own_cache)
    assert cold.returncode == 0, cold.stderr
    assert len(list(own_cache.iterdir())) == 1  # the early validator stored what it validated
    warm = _cli("render", "--root", str(tmp_path / "warm"), cwd=workspace, cache=own_cache)
    nochange = _cli("render", "--root", str(tmp_path / "warm"), cwd=workspace, cache=own_cache)
    assert warm.returncode == 0 and nochange.returncode == 0
    assert "unchanged" in nochange.stdout and "create" not in nochange.stdout
    assert _tree(tmp_path / "cold") == _tree(tmp_path / "inproc") == _tree(tmp_path / "warm")


def test_cli_program_reports_an_invalid_workspace(workspace, tmp_path, own_cache):
    path = workspace / "config" / "global.yml"
    path.write_text(path.read_text().replace("  solana:\n    enabled: true", "  solana:\n    enabled: maybe"))
    bad = _cli("render", "--root", str(tmp_path / "r"), cwd=workspace, cache=own_cache)
    assert bad.returncode == 2 and "enabled" in bad.stderr and not (tmp_path / "r" / "nodes").exists()
    unknown = _cli("render", "--root", str(tmp_path / "r"), "--env", "nope", cwd=workspace, cache=own_cache)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    assert not own_cache.exists() or not list(own_cache.iterdir())


def test_only_the_most_recent_entries_are_kept(workspace, own_cache, monkeypatch):
    import mevops.render.inputs as inputs

    monkeypatch.setattr(inputs, "KEEP", 2)
    ws = Workspace.open(workspace)
    for env in ("development", "staging", "production"):
        load_inputs(ws, env)
    assert len(list(own_cache.glob("*.pickle"))) == 2
    assert load_inputs(ws, "production").cached and not load_inputs(ws, "development").cached


def test_a_secret_from_the_environment_never_reaches_the_cache(workspace, own_cache, monkeypatch):
    """A MEVOPS_* overlay that may carry a secret (here a database URL with its password) is in the
    validated config: that config is then not written to disk. Variables that are not configuration
    (MEVOPS_SIGNER_KEY...) are neither stored nor part of the fingerprint."""
    ws = Workspace.open(workspace)
    monkeypatch.setenv("MEVOPS_SIGNER_KEY", "0x" + "ab" * 32)
    before = input_fingerprint(ws, ENV)
    monkeypatch.setenv("MEVOPS_SIGNER_KEY", "0x" + "cd" * 32)
    assert input_fingerprint(ws, ENV) == before
    load_inputs(ws, ENV)
    assert len(list(own_cache.iterdir())) == 1          # non-secret state: cached as usual
    password = "s3cr3t-pa55word"
    monkeypatch.setenv("MEVOPS_MEV_ENGINE__STORE__URL", f"postgresql://mev:{password}@127.0.0.1:5432/mev")
    inputs = load_inputs(ws, ENV)
    assert not inputs.cached and password in inputs.config.mev_engine.store.url
    assert not load_inputs(ws, ENV).cached               # validated again: nothing was stored
    stored = b"".join(p.read_bytes() for p in own_cache.iterdir())
    assert password.encode() not in stored and len(list(own_cache.iterdir())) == 1
