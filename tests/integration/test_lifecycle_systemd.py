"""The systemd backend: rendered units installed and driven through systemctl.

systemd is not PID 1 on these machines, so systemctl and journalctl are FAKES here: small
scripts put first on PATH that record every argv and answer from a state file (units loaded by
daemon-reload from the unit directory, enabled/active flags set by enable/disable). The units the
backend installs are checked for real with ``systemd-analyze verify``, and the real systemctl is
run once to show the error a host without systemd gets.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.integration.conftest import require_tool

UNIT = "ethereum-local-anvil.service"

FAKE_SYSTEMCTL = textwrap.dedent('''\
    #!/usr/bin/env python3
    """FAKE systemctl for tests: records argv, answers from a JSON state file."""
    import json, os, sys
    log, state_path, unit_dir = (os.environ[k] for k in ("FAKE_SYSTEMD_LOG", "FAKE_SYSTEMD_STATE", "FAKE_SYSTEMD_UNIT_DIR"))
    args = sys.argv[1:]
    with open(log, "a") as fh:
        fh.write(json.dumps(args) + "\\n")
    if os.environ.get("FAKE_SYSTEMD_NOT_BOOTED"):
        print("System has not been booted with systemd as init system (PID 1). Can't operate.", file=sys.stderr)
        sys.exit(1)
    state = json.load(open(state_path)) if os.path.exists(state_path) else {"loaded": [], "units": {}}
    args = [a for a in args if a != "--user"]
    verb, units = args[0], [a for a in args[1:] if not a.startswith("-")]
    unit = lambda name: state["units"].setdefault(name, {"active": False, "enabled": False, "restarts": 0, "pid": 0})
    if verb == "daemon-reload":
        state["loaded"] = sorted(os.listdir(unit_dir))
    elif verb in ("enable", "disable", "try-restart"):
        for name in units:
            if name not in state["loaded"]:
                print(f"Failed to {verb} unit: Unit {name} not found.", file=sys.stderr)
                sys.exit(5)
            u = unit(name)
            if verb == "try-restart":
                u["restarts"] += u["active"]
            else:
                u.update(enabled=verb == "enable", active=verb == "enable" if "--now" in args else u["active"])
            u["pid"] = 4242 + u["restarts"] if u["active"] else 0
    elif verb == "show":
        u = unit(units[0])
        print(f"LoadState={'loaded' if units[0] in state['loaded'] else 'not-found'}")
        print(f"ActiveState={'active' if u['active'] else 'inactive'}")
        print(f"SubState={'running' if u['active'] else 'dead'}")
        print(f"MainPID={u['pid']}\\nNRestarts=0\\nResult=success\\nExecMainStatus=0")
        print(f"UnitFileState={'enabled' if u['enabled'] else 'disabled'}")
    json.dump(state, open(state_path, "w"))
''')

FAKE_JOURNALCTL = textwrap.dedent('''\
    #!/usr/bin/env python3
    """FAKE journalctl for tests: records argv, prints one canned record per unit asked for."""
    import json, os, sys
    with open(os.environ["FAKE_SYSTEMD_LOG"], "a") as fh:
        fh.write(json.dumps(["journalctl", *sys.argv[1:]]) + "\\n")
    unit = sys.argv[sys.argv.index("-u") + 1]
    print(f"2026-01-01T00:00:00+0000 host systemd[1]: Started {unit} - fake journal record.")
''')


@pytest.fixture
def fake_systemd(tmp_path, monkeypatch):
    """Fake systemctl/journalctl first on PATH; returns (unit dir, calls())."""
    bin_dir, unit_dir = tmp_path / "fake-bin", tmp_path / "units"
    bin_dir.mkdir()
    for name, text in (("systemctl", FAKE_SYSTEMCTL), ("journalctl", FAKE_JOURNALCTL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "systemd-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMD_LOG", str(log))
    monkeypatch.setenv("FAKE_SYSTEMD_STATE", str(tmp_path / "systemd-state.json"))
    monkeypatch.setenv("FAKE_SYSTEMD_UNIT_DIR", str(unit_dir))

    def calls() -> list[list[str]]:
        found = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        log.unlink(missing_ok=True)
        return found

    return unit_dir, calls


def _render(run, workspace: Path, root: Path) -> None:
    result = run("render", "--root", root, "--chain", "ethereum", "--network", "local", cwd=workspace)
    assert result.code == 0, result.err


def _node(workspace: Path, root: Path):
    from mevops.lifecycle.nodes import resolve_node
    from mevops.workspace import Workspace

    ws = Workspace.open(workspace)
    return resolve_node(ws, ws.environment(None), root, "ethereum", "local")


def _place_binary(unit: Path) -> Path:
    """An executable where the unit's ExecStart points (the fake systemctl never runs it)."""
    from mevops.lifecycle.systemd import exec_binary, unit_setting

    binary = Path(exec_binary(unit_setting(unit.read_text(), "ExecStart") or ""))
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\nexec sleep 1000\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


@pytest.fixture
def rendered_node(workspace, tmp_path, run):
    root = tmp_path / "root"
    _render(run, workspace, root)
    rendered = root / "nodes/chains/ethereum/deployment/systemd" / UNIT
    _place_binary(rendered)
    return workspace, root, rendered


def test_up_installs_user_units_enables_and_is_idempotent(rendered_node, fake_systemd):
    from mevops.lifecycle.systemd import SystemdBackend, as_user_unit

    workspace, root, rendered = rendered_node
    unit_dir, calls = fake_systemd
    backend = SystemdBackend(user=True, unit_dir=unit_dir)
    node = _node(workspace, root)

    statuses = backend.up(node)
    assert [(s.state, s.pid) for s in statuses] == [("running", 4242)]
    installed = (unit_dir / UNIT).read_text()
    assert installed == as_user_unit(rendered.read_text())
    assert "User=" not in installed and "WantedBy=default.target" in installed
    assert calls() == [["--user", "daemon-reload"], ["--user", "enable", "--now", UNIT], ["--user", "show", UNIT, _SHOW]]
    assert (root / "nodes/chains/ethereum/logs/application").is_dir()  # ReadWritePaths= must exist

    backend.up(node)  # nothing changed: no reload, no restart
    assert calls() == [["--user", "enable", "--now", UNIT], ["--user", "show", UNIT, _SHOW]]

    rendered.write_text(rendered.read_text().replace("RestartSec=15", "RestartSec=20"))
    backend.up(node)  # a changed unit is reinstalled, reloaded and restarted
    assert "RestartSec=20" in (unit_dir / UNIT).read_text()
    assert calls() == [["--user", "show", UNIT, _SHOW], ["--user", "daemon-reload"], ["--user", "enable", "--now", UNIT],
                       ["--user", "try-restart", UNIT], ["--user", "show", UNIT, _SHOW]]
    assert backend.status(node)[0].pid == 4243  # the fake counted one restart


_SHOW = "--property=LoadState,ActiveState,SubState,MainPID,NRestarts,Result,ExecMainStatus,UnitFileState"


def test_status_logs_and_down_keep_data(rendered_node, fake_systemd):
    from mevops.lifecycle.systemd import SystemdBackend

    workspace, root, _ = rendered_node
    unit_dir, calls = fake_systemd
    backend = SystemdBackend(user=True, unit_dir=unit_dir)
    node = _node(workspace, root)
    assert backend.status(node)[0].detail == "unit not installed"
    backend.up(node)
    status = backend.status(node)[0]
    assert status.state == "running" and status.extra == {"unit": UNIT, "restarts": 0, "enabled": "enabled"}

    client = node.services[0]
    key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    Path(client.log_file).write_text(f"Available Accounts\nPrivate Keys\n(0) {key}\n\nListening on 127.0.0.1:28545\n")
    data = Path(client.data_dir) / "state.json"
    data.write_text("{}")
    calls()
    lines = list(backend.logs(node, lines=50))
    assert lines[0].endswith(f"Started {UNIT} - fake journal record.\n")
    assert "Listening on 127.0.0.1:28545\n" in lines and not any(key in line for line in lines)
    assert calls()[0] == ["journalctl", "--user", "-u", UNIT, "-n", "50", "--no-pager", "-o", "short-iso"]

    assert backend.down(node)[0].state == "stopped"
    assert calls()[0] == ["--user", "disable", "--now", UNIT]
    assert data.read_text() == "{}" and (unit_dir / UNIT).exists()


def test_system_units_need_their_user(rendered_node, run, fake_systemd):
    import pwd

    workspace, root, _ = rendered_node
    try:
        pwd.getpwnam("mevops")
        pytest.skip("this machine has a mevops user")
    except KeyError:
        pass
    result = run("chain", "up", "ethereum", "-n", "local", "-b", "systemd", "--root", root, cwd=workspace)
    assert result.code == 2 and "Traceback" not in result.err
    assert "the unit runs as 'mevops', which does not exist; create it (useradd --system mevops)" in result.err
    assert fake_systemd[1]() == []  # nothing asked of systemd


def test_missing_render_and_binary_are_clear_errors(workspace, tmp_path, run, fake_systemd):
    root = tmp_path / "root"
    result = run("chain", "up", "ethereum", "-n", "local", "-b", "systemd", "--root", root, cwd=workspace)
    assert result.code == 2 and "no rendered systemd unit; run `mevops render` first" in result.err
    _render(run, workspace, root)
    result = run("chain", "up", "ethereum", "-n", "local", "-b", "systemd", "--root", root, cwd=workspace)
    assert result.code == 2 and "is not an executable file; run `mevops chain install ethereum --client anvil`" in result.err
    assert "Traceback" not in result.err


def test_systemctl_failure_is_a_clear_error(rendered_node, fake_systemd, monkeypatch):
    from mevops.errors import MevopsError
    from mevops.lifecycle.systemd import SystemdBackend

    workspace, root, _ = rendered_node
    monkeypatch.setenv("FAKE_SYSTEMD_NOT_BOOTED", "1")
    with pytest.raises(MevopsError, match="systemctl --user daemon-reload: failed: System has not been booted with systemd"):
        SystemdBackend(user=True, unit_dir=fake_systemd[0]).up(_node(workspace, root))


def test_real_systemctl_on_a_host_without_systemd(rendered_node, tmp_path):
    """The real systemctl, where systemd is not running: one clear line, exit 2."""
    from mevops.errors import MevopsError
    from mevops.lifecycle.systemd import SystemdBackend

    require_tool("systemctl")
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd runs here; this test is for hosts without it")
    workspace, root, _ = rendered_node
    with pytest.raises(MevopsError) as caught:
        SystemdBackend(user=True, unit_dir=tmp_path / "units").up(_node(workspace, root))
    assert "systemctl --user daemon-reload: failed:" in str(caught.value)


@pytest.mark.parametrize("user", [False, True], ids=["system", "user"])
def test_installed_units_pass_systemd_analyze_verify(rendered_node, fake_systemd, tmp_path, user):
    from mevops.lifecycle.systemd import SystemdBackend

    analyze = require_tool("systemd-analyze")
    workspace, root, _ = rendered_node
    unit_dir = fake_systemd[0]
    node = _node(workspace, root)
    backend = SystemdBackend(user=True, unit_dir=unit_dir)
    backend.up(node)  # installs the user variant; the system variant is the rendered file itself
    unit = unit_dir / UNIT if user else root / "nodes/chains/ethereum/deployment/systemd" / UNIT
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    argv = [analyze, *(["--user"] if user else []), "verify", str(unit)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert done.returncode == 0, done.stderr


def test_rendered_exec_start_runs_the_installed_binary(workspace, tmp_path, run):
    """The unit runs what `mevops chain install` installs (<chain>/binaries/<client>/current/<binary>)."""
    from mevops.lifecycle.systemd import exec_binary, unit_setting

    root = tmp_path / "root"
    _render(run, workspace, root)
    node = _node(workspace, root)
    text = (root / "nodes/chains/ethereum/deployment/systemd" / UNIT).read_text()
    assert exec_binary(unit_setting(text, "ExecStart") or "") == str(node.binary(node.services[0]))
