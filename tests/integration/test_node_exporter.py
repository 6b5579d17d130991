"""`mevops chain exporter`: the mevops_node_* metrics the rendered Prometheus configs scrape on
127.0.0.1:9310 and the rendered node alerts and dashboards are written against — from a real
anvil started by the process backend, and from nodes that are not running at all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mevops.render.monitoring import NODE_METRICS


def _scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(url, timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def _value(samples, name: str, **labels) -> float | None:
    want = set(labels.items())
    found = [v for (n, lab), v in samples.items() if n == name and want <= set(lab)]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


def test_exporter_follows_a_real_node_and_covers_what_rendered_rules_use(tmp_path, anvil_binary, workspace):
    from mevops.engine.demo import start_local_node

    env = {**os.environ, "PATH": f"{anvil_binary.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}
    os.environ["PATH"] = env["PATH"]
    rpc, backend, node = start_local_node(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "-w", str(tmp_path / "workspace"), "chain", "exporter", "--port", "0",
                             "--interval", "1", "--root", str(tmp_path / "root"), "--env", "development"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()
        match = re.search(r"exporter on (http://[\d.]+:\d+/metrics) \((\d+) nodes", line)
        assert match, line
        url = match.group(1)
        first = _scrape(url)
        local = {"chain": "ethereum", "network": "local", "client": "anvil"}
        assert _value(first, "mevops_node_rpc_up", **local) == 1
        head = _value(first, "mevops_node_head_block", **local)
        assert head is not None and head >= 0
        assert _value(first, "mevops_node_syncing", **local) == 0
        assert 0 < _value(first, "mevops_node_rpc_latency_seconds", **local) < 5
        # nodes of the workspace that are not running: RPC down, no head
        others = [lab for (n, lab), v in first.items() if n == "mevops_node_rpc_up" and ("network", "local") not in lab]
        assert others and all(first[("mevops_node_rpc_up", lab)] == 0 for lab in others)
        time.sleep(2.5)   # anvil mines a block a second on ethereum/local
        assert _value(_scrape(url), "mevops_node_head_block", **local) > head
        backend.down(node)
        deadline = time.monotonic() + 10
        while _value(_scrape(url), "mevops_node_rpc_up", **local) != 0:
            assert time.monotonic() < deadline, "rpc_up never dropped to 0 after the node stopped"
            time.sleep(0.3)
        assert _value(_scrape(url), "mevops_node_head_block", **local) is None
        text = httpx.get(url, timeout=5).text
        for spec in NODE_METRICS:   # every family documents itself, with or without samples
            assert f"# TYPE {spec.name} {spec.type}" in text, spec.name
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        backend.down(node)
        if proc.poll() is None:
            proc.kill()
    root = tmp_path / "rendered"
    subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), "render", "--root", str(root)], check=True,
                   capture_output=True)
    used = set()
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".yaml", ".json"):
            used |= set(re.findall(r"mevops_node_[a-z_]+", path.read_text(errors="replace")))
    used.discard("mevops_node_")
    assert used, "the rendered rules and dashboards use node metrics"
    assert used <= {m.name for m in NODE_METRICS}, f"rendered but not exported: {sorted(used - {m.name for m in NODE_METRICS})}"


def test_a_taken_port_is_exit_2_with_one_line(tmp_path):
    import socket

    from mevops.workspace_init import init_workspace

    init_workspace(tmp_path / "ws", ["ethereum"], str(tmp_path / "root"), "development")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "mevops", "-w", str(tmp_path / "ws"), "chain", "exporter", "--port",
                                 str(port), "--interval", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: --port: {port}: cannot listen on 127.0.0.1:{port}: Address already in use"]
