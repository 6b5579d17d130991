import os
import stat

from mevops.secrets import read_store
from tests.conftest import snapshot


def test_init_then_validate_production(run, tmp_path):
    ws = tmp_path / "ws"
    result = run("init", ws)
    assert result.code == 0, result.err
    for rel in ("mevops.yml", "config/global.yml", "environments/production/overrides.yml", "mev/config/risk-limits.yml",
                "mev/config/global.yml", "mev/config/strategies.yml", "mev/config/api-keys.enc", "chains/ethereum.yml",
                "mev/strategies/testing/arbitrage/cross-chain-usdc-arbitrage.yml", "mev/strategies/archived"):
        assert (ws / rel).exists(), rel
    assert len(list((ws / "chains").glob("*.yml"))) == 8
    for env in ("development", "staging", "production"):
        check = run("-w", ws, "config", "validate", "--env", env)
        assert check.code == 0, check.err
        assert f"ok: {env}: 8 chains" in check.out


def test_key_store_is_private_and_decrypts(run, tmp_path):
    ws = tmp_path / "ws"
    assert run("init", ws).code == 0
    key = ws / ".secrets/master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert read_store(ws / "mev/config/api-keys.enc", key) == {}
    assert ".secrets/" in (ws / ".gitignore").read_text()
    assert key.read_bytes().strip() not in (ws / "mev/config/api-keys.enc").read_bytes()


def test_selected_chains_only(run, tmp_path):
    ws = tmp_path / "ws"
    assert run("init", ws, "--chains", "ethereum,arbitrum").code == 0
    show = run("-w", ws, "config", "show", "--json")
    import json

    chains = json.loads(show.out)["chains"]
    assert {name for name, c in chains.items() if c["enabled"]} == {"ethereum", "arbitrum"}
    # samples for chains that are not enabled are left out; the rest validate
    assert (ws / "mev/strategies/testing/arbitrage/cross-chain-usdc-arbitrage.yml").exists()
    assert not (ws / "mev/strategies/research/backrun/oracle-update-backrun.yml").exists()
    assert run("-w", ws, "config", "validate", "--all-envs").code == 0


def test_idempotent_and_never_overwrites(run, tmp_path):
    ws = tmp_path / "ws"
    assert run("init", ws).code == 0
    edited = ws / "config/global.yml"
    edited.write_text(edited.read_text() + "# my edit\n")
    (ws / "chains/solana.yml").unlink()
    before = snapshot(ws)
    again = run("init", ws)
    assert again.code == 0
    assert again.out.splitlines()[0] == "wrote chains/solana.yml"
    assert edited.read_text().endswith("# my edit\n")
    after = snapshot(ws)
    assert {k: v for k, v in after.items() if k != "chains/solana.yml"} == before


def test_dry_run_writes_nothing(run, tmp_path):
    ws = tmp_path / "ws"
    result = run("init", ws, "--dry-run")
    assert result.code == 0
    assert "would write mevops.yml" in result.out
    assert not ws.exists()


def test_bad_input_writes_nothing(run, tmp_path):
    ws = tmp_path / "ws"
    for args, fragment in [
        (("--chains", "ethereum,../../etc"), "--chains: ../../etc: unknown chain"),
        (("--chains", "dogecoin"), "unknown chain"),
        (("--chains", ","), "choose at least one chain"),
        (("--default-env", "qa"), "unknown environment"),
    ]:
        result = run("init", ws, *args)
        assert result.code == 2, args
        assert fragment in result.err
        assert "Traceback" not in result.err
        assert not ws.exists()
    afile = tmp_path / "a-file"
    afile.write_text("x")
    result = run("init", afile)
    assert result.code == 2 and "is not a directory" in result.err


def test_root_recorded(run, tmp_path):
    ws = tmp_path / "ws"
    assert run("init", ws, "--root", str(tmp_path / "tree")).code == 0
    assert f"target_root: {tmp_path / 'tree'}" in (ws / "mevops.yml").read_text()


def test_init_from_anywhere(run, tmp_path):
    os.makedirs(tmp_path / "sub")
    assert run("init", "ws", cwd=tmp_path / "sub").code == 0
    assert (tmp_path / "sub" / "ws" / "mevops.yml").exists()
