import json
import subprocess
import sys

from mevops import __version__


def test_version_and_help(run):
    assert run("--version").out.strip() == f"mevops {__version__}"
    result = run("--help")
    assert result.code == 0
    for word in ("init", "config", "--workspace", "--install-completion"):
        assert word in result.out


def test_help_does_not_import_heavy_modules():
    code = "import sys; from mevops import cli; print(sorted(m for m in ('pydantic', 'web3', 'docker', 'ansible_runner', 'fastapi', 'yaml', 'rich.table', 'cryptography') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_outside_workspace_is_a_clear_error(run, tmp_path):
    result = run("config", "validate", cwd=tmp_path)
    assert result.code == 2
    assert "not inside a mevops workspace" in result.err
    assert "Traceback" not in result.err


def test_unknown_command_is_usage_error(run):
    assert run("frobnicate").code == 2


def test_show_explain_names_files_lines_and_variables(run, workspace):
    result = run("config", "show", "--env", "production", "--explain", "--json", cwd=workspace,
                 env={"MEVOPS_GLOBAL__NETWORKING__RETRY_ATTEMPTS": "7"})
    assert result.code == 0, result.err
    rows = {row["key"]: row for row in json.loads(result.out)}
    assert rows["mev.max_gas_price"]["value"] == "300 gwei"
    assert rows["mev.max_gas_price"]["origin"].startswith("environments/production/overrides.yml:")
    assert rows["mev.min_profit_threshold"]["origin"] == "config/global.yml:" + str(
        (workspace / "config/global.yml").read_text().splitlines().index("  min_profit_threshold: 0.01 ETH") + 1)
    assert rows["global.networking.retry_attempts"] == {"key": "global.networking.retry_attempts", "value": 7,
                                                       "origin": "MEVOPS_GLOBAL__NETWORKING__RETRY_ATTEMPTS"}
    assert rows["risk_limits.global_limits.max_total_exposure"]["origin"].startswith("mev/config/risk-limits.yml:")
    assert rows["global.environment"]["value"] == "production"


def test_show_table_and_yaml(run, workspace):
    table = run("config", "show", "--explain", cwd=workspace)
    assert table.code == 0 and "config/global.yml:" in table.out
    plain = run("config", "show", cwd=workspace)
    assert plain.code == 0 and "max_gas_price: 500 gwei" in plain.out


def test_secrets_are_masked_in_show(run, workspace):
    result = run("config", "show", "--json", cwd=workspace, env={"MEVOPS_MEV_ENGINE__RELAYS__FLASHBOTS__API_KEY": "sk-live-123"})
    # unknown key → refused, and the value never echoed
    assert result.code == 2
    assert "sk-live-123" not in result.err + result.out


def test_environment_names_cannot_escape(run, workspace):
    for env in ("../../etc", "production/../../x", "nope"):
        result = run("config", "validate", "--env", env, cwd=workspace)
        assert result.code == 2 and "unknown environment" in result.err



def test_a_command_imports_only_its_own_module():
    """`mevops render ...` loads mevops.commands.render and no other command module; --help lists all."""
    import subprocess
    import sys

    code = ("import sys; from mevops import cli; cli.register([cli._wanted(['-w', 'x', 'render', '--dry-run'])]); "
            "print(sorted(m for m in sys.modules if m.startswith('mevops.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['mevops.commands.render']"
    assert cli_wanted(["--help"]) is None and cli_wanted(["-w", "ws", "engine", "run"]) == "engine"
    assert cli_wanted(["--workspace=ws", "render"]) == "render" and cli_wanted(["nope"]) is None


def cli_wanted(args):
    from mevops.cli import _wanted

    return _wanted(args)


def test_top_level_help_is_cached_and_equals_a_fresh_one(tmp_path, monkeypatch, capsys):
    """`mevops --help` is served from a cache keyed by the command modules; it must say exactly
    what typer says, and a changed command module makes a new entry."""
    import os

    from mevops import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cli.main(["--help"])
    first = capsys.readouterr().out
    (entry,) = list((tmp_path / "mevops").glob("help-*.txt"))
    cli.main(["--help"])
    assert capsys.readouterr().out == first == entry.read_text()
    cli.register()
    try:
        cli.app(args=["--help"], prog_name="mevops")
    except SystemExit:
        pass
    assert capsys.readouterr().out == first
    module = __import__("mevops.commands.render", fromlist=["x"]).__file__
    st = os.stat(module)
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    try:
        assert cli._help_cache() != entry
    finally:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
