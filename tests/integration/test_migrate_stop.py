"""`mevops migrate apply --stop` for real: live processes hold a messy legacy tree's chain data
(LevelDB's LOCK, locked as geth does) and are stopped through the lifecycle layer, gracefully
when they listen to SIGTERM, killed after the grace period when they do not; the journal and
`migrate status` record what was stopped. A podman container holding the data through a bind
mount is stopped by the docker backend (skipped without podman)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.integration.test_lifecycle_docker import podman_api  # noqa: F401 - its session fixture, shared
from tests.integration.test_migrate_apply import prepare
from tests.migrate_fixture import compare_trees, expected_tree, snapshot_tree, tree_state

LOCK = "geth-mainnet/data/geth/chaindata/LOCK"


def holder_script(lock: Path, marker: Path, *, ignore_term: bool = False) -> str:
    """A stand-in for geth: locks LOCK like LevelDB, says "ready", and on SIGTERM notes it and exits cleanly."""
    on_term = "signal.SIG_IGN" if ignore_term else "closed"
    return textwrap.dedent(f"""
        import fcntl, signal, sys, time
        fh = open({str(lock)!r}, "r+"); fcntl.lockf(fh, fcntl.LOCK_EX)
        def closed(signum, frame):
            open({str(marker)!r}, "a").write("SIGTERM\\n"); fh.close(); sys.exit(0)
        signal.signal(signal.SIGTERM, {on_term})
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    """)


def start_holder(src: Path, marker: Path, **kw) -> subprocess.Popen:
    node = subprocess.Popen([sys.executable, "-c", holder_script(src / LOCK, marker, **kw)], stdout=subprocess.PIPE, text=True)
    assert node.stdout.readline().strip() == "ready"
    return node


def status_json(run, env) -> dict:
    result = run("migrate", "status", "--json", env=env)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_bare_holder_refused_without_stop_then_stopped_gracefully(run, tmp_path):
    root = tmp_path / "root"
    src, plan, env, before = prepare(run, tmp_path, root)
    marker = tmp_path / "node-signals"
    node = start_holder(src, marker)
    try:
        refused = run("migrate", "apply", tmp_path / "plan.yml", "--yes", env=env)
        assert refused.code == 1 and "still uses the data" in refused.err and f"pid {node.pid}" in refused.err
        assert node.poll() is None and not marker.exists()  # without --stop nothing is stopped...
        assert snapshot_tree(src) == before and not root.exists()  # ...and nothing touched
        bad = run("migrate", "apply", tmp_path / "plan.yml", "--yes", "--stop", "--grace", "soon", env=env)
        assert bad.code == 2 and "error: --grace: 'soon' is not a duration" in bad.err and node.poll() is None and not root.exists()
        dry = run("migrate", "apply", tmp_path / "plan.yml", "--dry-run", "--stop", env=env)
        assert dry.code == 0 and "would stop bare process python" in dry.out and f"(pid {node.pid}), holding {LOCK}: " \
            "SIGTERM, SIGKILL after 300 s" in dry.out
        assert node.poll() is None

        done = run("migrate", "apply", tmp_path / "plan.yml", "--yes", "--stop", "--grace", "30s", env=env)
        assert done.code == 0, done.err
        assert node.wait(timeout=10) == 0 and marker.read_text() == "SIGTERM\n"  # it closed its database itself
    finally:
        node.kill()
        node.wait()
    assert "stopped: bare process python" in done.out and f"(pid {node.pid}): stopped gracefully by SIGTERM" in done.out
    assert "stopping bare process python" in done.err
    assert not compare_trees(expected_tree(before, plan, src), tree_state(src, root), plan)
    info = status_json(run, env)
    assert info["state"] == "complete"
    assert [(s["pids"], s["how"], s["killed"]) for s in info["stopped"]] == [([node.pid], "signal", False)]
    shown = run("migrate", "status", env=env)
    assert f"(pid {node.pid}): stopped gracefully by SIGTERM" in shown.out and "stopped first (--stop): bare process" in shown.out
    journal = (root / ".mevops/migrate/current/journal.jsonl").read_text().splitlines()
    ops = [json.loads(line).get("op") for line in journal]
    assert ops.index("stopped") < ops.index("complete")
    assert not any(json.loads(line).get("state") == "started" for line in journal[:ops.index("stopped")])


def test_holder_ignoring_sigterm_is_killed_after_the_grace_period(run, tmp_path):
    root = tmp_path / "root"
    src, plan, env, before = prepare(run, tmp_path, root)
    node = start_holder(src, tmp_path / "node-signals", ignore_term=True)
    try:
        t0 = time.monotonic()
        done = run("migrate", "apply", tmp_path / "plan.yml", "--yes", "--stop", "--grace", "1500ms", env=env)
        took = time.monotonic() - t0
        assert done.code == 0, done.err
        assert node.wait(timeout=10) == -signal.SIGKILL
    finally:
        node.kill()
        node.wait()
    assert took >= 1.5 and f"(pid {node.pid}): killed (SIGKILL) after the grace period (SIGTERM first)" in done.out
    assert not compare_trees(expected_tree(before, plan, src), tree_state(src, root), plan)
    assert [s["killed"] for s in status_json(run, env)["stopped"]] == [True]


def test_resume_stop_stops_a_holder_that_appeared_after_an_interrupted_apply(run, tmp_path):
    root = tmp_path / "root"
    src, plan, env, before = prepare(run, tmp_path, root)
    from mevops.migrate.apply import steps_of

    step = next(s for s in steps_of(plan) if s.item.source == "geth-mainnet/data")
    killed = subprocess.run([sys.executable, "-m", "mevops", "migrate", "apply", str(tmp_path / "plan.yml"), "--yes"],
                            env={**os.environ, **env, "MEVOPS_MIGRATE_FAULT": f"kill:{step.n}"}, capture_output=True, check=False)
    assert killed.returncode == -9 and (src / LOCK).exists()
    marker = tmp_path / "node-signals"
    node = start_holder(src, marker)  # the node was started again before the resume
    try:
        refused = run("migrate", "resume", env=env)
        assert refused.code == 1 and f"pid {node.pid}" in refused.err and node.poll() is None
        assert run("migrate", "resume", "--grace", "5s", env=env).code == 2  # --grace alone stops nothing: a mistake
        resumed = run("migrate", "resume", "--stop", "--grace", "30s", env=env)
        assert resumed.code == 0, resumed.err
        assert node.wait(timeout=10) == 0 and marker.read_text() == "SIGTERM\n"
    finally:
        node.kill()
        node.wait()
    assert f"(pid {node.pid}): stopped gracefully by SIGTERM" in resumed.out
    assert not compare_trees(expected_tree(before, plan, src), tree_state(src, root), plan)
    assert [s["pids"] for s in status_json(run, env)["stopped"]] == [[node.pid]]


def test_supervised_node_is_stopped_through_the_process_backend(run, tmp_path):
    """A node run by mevops's supervisor (the process backend) is stopped by stopping its supervisor, which would
    otherwise restart it at once."""
    root = tmp_path / "root"
    src, plan, env, before = prepare(run, tmp_path, root)
    marker = tmp_path / "node-signals"
    pid_file = tmp_path / "run/mevops.pid"
    pid_file.parent.mkdir()
    spec = tmp_path / "run/mevops.spec.json"
    spec.write_text(json.dumps({"argv": [sys.executable, "-c", holder_script(src / LOCK, marker)], "cwd": str(tmp_path),
                                "pid_file": str(pid_file), "log_file": str(tmp_path / "run/node.log"), "grace": 30}))
    supervisor = subprocess.Popen([sys.executable, "-m", "mevops.lifecycle.supervise", str(spec)], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "ready" not in _read(tmp_path / "run/node.log"):
            time.sleep(0.05)
        child = json.loads(pid_file.read_text())["child"]
        done = run("migrate", "apply", tmp_path / "plan.yml", "--yes", "--stop", "--grace", "30s", env=env)
        assert done.code == 0, done.err
        assert supervisor.wait(timeout=10) == 0
    finally:
        supervisor.kill()
        supervisor.wait()
    assert f"mevops-supervised node ({spec}) (pid {child})" in done.out and "by the process backend" in done.out
    assert marker.read_text() == "SIGTERM\n" and not pid_file.exists()
    assert not compare_trees(expected_tree(before, plan, src), tree_state(src, root), plan)
    assert [s["how"] for s in status_json(run, env)["stopped"]] == ["process backend"]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def test_a_holder_that_cannot_be_stopped_stops_nothing(tmp_path, run):
    """mevops's own parent shell sits in the data (its working directory): --stop refuses it, and the other holder,
    which it could stop, is left running too: nothing half-stopped, nothing moved."""
    root = tmp_path / "root"
    src, _, env, before = prepare(run, tmp_path, root)
    node = start_holder(src, tmp_path / "node-signals")
    script = (f'cd "{src}/geth-mainnet/data" && "{sys.executable}" -m mevops migrate apply "{tmp_path}/plan.yml" '
              '--yes --stop --grace 5s; echo "exit $?"')
    try:
        result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=120, env={**os.environ, **env}, check=False)
        assert node.poll() is None
    finally:
        node.kill()
        node.wait()
    assert "exit 1" in result.stdout, result.stderr
    assert "--stop cannot stop it (nothing was stopped)" in result.stderr and "ancestor of this mevops" in result.stderr
    assert snapshot_tree(src) == before and not root.exists()


# -- a container holding the data through a bind mount (podman's Docker API) ----------------------------
def test_container_holder_is_stopped_through_the_docker_backend(run, tmp_path, request):
    api = request.getfixturevalue("podman_api")  # skips with its reason where podman cannot run containers
    root = tmp_path / "root"
    src, plan, env, before = prepare(run, tmp_path, root)
    env = {**env, "DOCKER_HOST": api.url}
    name = f"legacy-geth-{os.getpid()}"
    script = ('trap "exit 0" TERM; exec 3<>/root/.ethereum/geth/chaindata/LOCK; '
              'echo ready; while :; do sleep 0.2 & wait $!; done')
    started = subprocess.run([api.podman, "run", "-d", "--name", name, "--network", "none",
                              "--label", "com.docker.compose.project=geth-mainnet",
                              "--label", f"com.docker.compose.project.working_dir={src}/geth-mainnet",
                              "-v", f"{src}/geth-mainnet/data:/root/.ethereum", api.image, "/bin/sh", "-c", script],
                             env=api.env, capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 0, started.stderr
    try:
        _wait_for_log(api, name, "ready")
        refused = run("migrate", "apply", tmp_path / "plan.yml", "--yes", env=env)
        assert refused.code == 1 and "geth/chaindata/LOCK" in refused.err and not root.exists()
        done = run("migrate", "apply", tmp_path / "plan.yml", "--yes", "--stop", "--grace", "30s", env=env)
        assert done.code == 0, done.err
        state = _inspect(api, name)
    finally:
        subprocess.run([api.podman, "rm", "--force", "--time", "0", name], env=api.env, capture_output=True,
                       timeout=120, check=False)
    assert state["Status"] in ("exited", "stopped") and state["ExitCode"] == 0  # its TERM trap ran: not killed (137)
    assert f"stopped: container {name}" in done.out and "compose project geth-mainnet" in done.out
    assert "stopped gracefully by the docker backend" in done.out
    stopped = status_json(run, env)["stopped"]
    assert [(s["how"], s["killed"]) for s in stopped] == [("docker backend", False)] and name in stopped[0]["what"]
    assert not compare_trees(expected_tree(before, plan, src), tree_state(src, root), plan)


def _inspect(api, name: str) -> dict:
    out = subprocess.run([api.podman, "inspect", name], env=api.env, capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return json.loads(out)[0]["State"]


def _wait_for_log(api, name: str, text: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = subprocess.run([api.podman, "logs", name], env=api.env, capture_output=True, text=True,
                              timeout=60, check=False)
        if text in logs.stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} did not say {text!r}")

