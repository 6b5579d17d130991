"""Monitoring files of every environment's render pass their validators, and fire when they should.

promtool checks every Prometheus config (and the rule files it loads) and every rule file, and
runs unit tests of the alerts against the rendered rules; amtool checks Alertmanager; dashboards
meet a JSON schema; every metric a dashboard or an alert reads is in the documented metric list.
Validators run once over all files of all environments (a 2-core budget).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.integration.conftest import ENVIRONMENTS, files, require_tool, run_tool

YAMLLINT_CONFIG = "{extends: relaxed, rules: {line-length: disable}}"
SEVERITIES = {"critical", "warning", "info"}
EXTERNAL_METRIC = re.compile(r"^(up|node_\w+|prometheus_\w+|alertmanager_\w+)$")
DATASOURCE_UID = "mevops-prometheus"

DASHBOARD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["title", "uid", "panels", "schemaVersion", "time"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "schemaVersion": {"type": "integer", "minimum": 30},
        "tags": {"type": "array", "items": {"type": "string"}},
        "panels": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/panel"}},
    },
    "$defs": {
        "gridPos": {
            "type": "object",
            "required": ["x", "y", "w", "h"],
            "properties": {
                "x": {"type": "integer", "minimum": 0, "maximum": 23},
                "y": {"type": "integer", "minimum": 0},
                "w": {"type": "integer", "minimum": 1, "maximum": 24},
                "h": {"type": "integer", "minimum": 1},
            },
        },
        "panel": {
            "type": "object",
            "required": ["id", "type", "title", "gridPos"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "type": {"enum": ["row", "stat", "timeseries", "gauge", "table", "bargauge", "text"]},
                "title": {"type": "string", "minLength": 1},
                "gridPos": {"$ref": "#/$defs/gridPos"},
            },
            "if": {"properties": {"type": {"const": "row"}}},
            "then": {"properties": {"panels": {"type": "array"}}},
            "else": {
                "required": ["targets", "datasource"],
                "properties": {
                    "datasource": {"type": "object", "required": ["uid"], "properties": {"uid": {"const": DATASOURCE_UID}}},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["refId", "expr"],
                            "properties": {"refId": {"type": "string"}, "expr": {"type": "string", "minLength": 1}},
                        },
                    },
                },
            },
        },
    },
}


# -- collecting the rendered files ------------------------------------------------------------
def prometheus_configs(root: Path) -> list[Path]:
    return files(root, "nodes/chains/*/monitoring/prometheus.yml") + files(root, "infrastructure/monitoring/prometheus/prometheus.yml")


def rule_files(root: Path) -> list[Path]:
    return (files(root, "nodes/chains/*/monitoring/alerts/*.yml") + files(root, "mev/monitoring/alerts/*.yml")
            + files(root, "infrastructure/monitoring/prometheus/rules/*.yml"))


def dashboards(root: Path) -> list[Path]:
    return files(root, "nodes/chains/*/monitoring/grafana-dashboards/*.json") + files(root, "mev/monitoring/dashboards/*.json")


def monitoring_yaml(root: Path) -> list[Path]:
    return [p for pattern in ("nodes/chains/*/monitoring/**/*.yml", "mev/monitoring/**/*.yml",
                              "infrastructure/monitoring/**/*.yml", "infrastructure/monitoring/**/*.yaml")
            for p in sorted(root.glob(pattern))]


def all_envs(rendered, collect) -> list[Path]:
    return [p for env in ENVIRONMENTS for p in collect(rendered[env])]


def alerting_rules(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def dashboard_exprs(path: Path) -> list[str]:
    return [t["expr"] for p in json.loads(path.read_text())["panels"] for t in p.get("targets", [])]


# -- PromQL: which metric names an expression reads (enough for our own expressions) ------------
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
             "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in re.finditer(r"(?<![0-9A-Za-z_.:$])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if m.group(0) not in _KEYWORDS and not expr[m.end():].lstrip().startswith("("):
            names.add(m.group(0))
    return names


def test_metric_names_parser():
    assert metric_names('sum by (engine) (rate(mevops_engine_x_total{engine=~"$engine"}[5m])) / 1e18') == {"mevops_engine_x_total"}
    assert metric_names('max by (chain, network) (a{c="x"}) - on (chain, network) group_right b > 5 unless on (c) (d == 1)') \
        == {"a", "b", "d"}
    assert metric_names("predict_linear(node_filesystem_avail_bytes{mountpoint=~\"/|/data\"}[6h], 24 * 3600) < 0") \
        == {"node_filesystem_avail_bytes"}


def documented_metrics(root: Path) -> set[str]:
    doc = yaml.safe_load((root / "infrastructure/monitoring/metrics.yml").read_text())
    return {m["name"] for m in doc["metrics"]}


# -- validators ---------------------------------------------------------------------------------
def test_promtool_check_config(rendered):
    promtool = require_tool("promtool")
    configs = all_envs(rendered, prometheus_configs)
    assert len(configs) == 3 * 9  # 8 chains + the global one, per environment
    result = run_tool(promtool, "check", "config", *configs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_promtool_check_rules(rendered):
    promtool = require_tool("promtool")
    result = run_tool(promtool, "check", "rules", *all_envs(rendered, rule_files))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_amtool_check_config(rendered):
    amtool = require_tool("amtool")
    configs = [rendered[env] / "infrastructure/monitoring/alertmanager/alertmanager.yml" for env in ENVIRONMENTS]
    result = run_tool(amtool, "check-config", *configs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_yamllint(rendered):
    yamllint = require_tool("yamllint")
    paths = all_envs(rendered, monitoring_yaml)
    assert len(paths) > 3 * 20
    result = run_tool(yamllint, "-s", "-f", "parsable", "-d", YAMLLINT_CONFIG, *paths)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_dashboards_meet_schema(rendered, tmp_path):
    check = require_tool("check-jsonschema")
    schema = tmp_path / "grafana-dashboard.schema.json"
    schema.write_text(json.dumps(DASHBOARD_SCHEMA))
    result = run_tool(check, "--schemafile", schema, *all_envs(rendered, dashboards))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


# -- alert quality ------------------------------------------------------------------------------
def test_every_alert_is_actionable(rendered):
    for path in rule_files(rendered["production"]):
        for rule in alerting_rules(path):
            where = f"{path.name}: {rule['alert']}"
            assert rule.get("for"), where
            assert rule["labels"]["severity"] in SEVERITIES, where
            assert rule["labels"]["component"] in {"node", "mev", "host"}, where
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], where
            if rule["labels"]["component"] == "node":
                assert {"chain", "network"} <= set(rule["labels"]), where


def test_node_alerts_cover_what_operators_need(rendered):
    root = rendered["development"]
    for path in files(root, "nodes/chains/*/monitoring/alerts/*.yml"):
        names = {r["alert"] for r in alerting_rules(path)}
        assert {"NodeHeadNotAdvancing", "NodeRpcDown", "NodeSyncingTooLong", "NodeDiskWillFillIn24h",
                "NodeNoPeers", "NodeHeadLagging", "NodeHealthNotReported"} <= names, path
        for rule in alerting_rules(path):
            if "predict_linear" in rule["expr"]:
                assert "node_filesystem_avail_bytes{mountpoint=~" in rule["expr"] and "[6h], 24 * 3600) < 0" in rule["expr"]


def test_head_stall_window_follows_block_time(rendered):
    rules = alerting_rules(rendered["development"] / "nodes/chains/ethereum/monitoring/alerts/ethereum.yml")
    stall = {r["labels"]["network"]: r for r in rules if r["alert"] == "NodeHeadNotAdvancing"}
    assert "[120s]" in stall["mainnet"]["expr"] and stall["mainnet"]["for"] == "120s"  # 10 blocks of 12s
    assert "[60s]" in stall["local"]["expr"]  # at least 4 scrapes, whatever the block time
    lag = {r["labels"]["network"]: r for r in rules if r["alert"] == "NodeHeadLagging"}
    assert "local" not in lag  # no reference RPC for a devnet
    assert "> 5 unless" in lag["mainnet"]["expr"]  # about a minute of 12s blocks


def test_daily_loss_threshold_follows_risk_limits(rendered):
    expected = {"development": 50000, "production": 25000}  # mev/config/risk-limits.yml and its production override
    for env, limit in expected.items():
        rules = {r["alert"]: r for r in alerting_rules(rendered[env] / "mev/monitoring/alerts/mev.yml")}
        assert rules["MevDailyLossLimitReached"]["expr"].endswith(f"<= -{limit}")
        assert rules["MevDailyLossApproachingLimit"]["expr"].endswith(f"< -{int(limit * 0.8)}")


def test_chain_and_global_rules_agree(rendered):
    root = rendered["staging"]
    per_chain = [r for p in files(root, "nodes/chains/*/monitoring/alerts/*.yml") for r in alerting_rules(p)]
    assert per_chain == alerting_rules(root / "infrastructure/monitoring/prometheus/rules/nodes.yml")
    assert alerting_rules(root / "mev/monitoring/alerts/mev.yml") == \
        alerting_rules(root / "infrastructure/monitoring/prometheus/rules/mev.yml")


# -- consistency --------------------------------------------------------------------------------
def test_dashboards_and_alerts_read_documented_metrics(rendered):
    for env in ENVIRONMENTS:
        root = rendered[env]
        documented = documented_metrics(root)
        in_alerts = {n for p in rule_files(root) for r in alerting_rules(p) for n in metric_names(r["expr"])}
        undocumented = {n for n in in_alerts - documented if not EXTERNAL_METRIC.match(n)}
        assert not undocumented, f"{env}: alerts read undocumented metrics {sorted(undocumented)}"
        for path in dashboards(root):
            used = {n for expr in dashboard_exprs(path) for n in metric_names(expr)}
            assert used, path
            unknown = used - in_alerts - documented
            assert not unknown, f"{path}: metrics neither alerted on nor documented: {sorted(unknown)}"


def test_dashboards_are_consistent(rendered):
    for env in ENVIRONMENTS:
        uids = {}
        for path in dashboards(rendered[env]):
            board = json.loads(path.read_text())
            assert board["uid"] not in uids, f"{path} and {uids.get(board['uid'])} share uid {board['uid']}"
            uids[board["uid"]] = path
            ids = [p["id"] for p in board["panels"]]
            assert len(ids) == len(set(ids)), f"{path}: duplicate panel ids"
            cells = {}
            for panel in board["panels"]:
                g = panel["gridPos"]
                assert g["x"] + g["w"] <= 24, f"{path}: {panel['title']} is wider than the grid"
                for x in range(g["x"], g["x"] + g["w"]):
                    for y in range(g["y"], g["y"] + g["h"]):
                        assert (x, y) not in cells, f"{path}: {panel['title']} overlaps {cells[(x, y)]}"
                        cells[(x, y)] = panel["title"]
        assert any(uid.startswith("mevops-nodes-") for uid in uids) and "mevops-mev-overview" in uids


def test_node_dashboard_has_a_row_per_network(rendered):
    board = json.loads((rendered["development"] / "nodes/chains/ethereum/monitoring/grafana-dashboards/ethereum.json").read_text())
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert [r.split(" ")[0] for r in rows] == ["mainnet", "testnet", "local"]
    titles = {p["title"] for p in board["panels"]}
    assert {"Head block", "Head lag vs reference", "Sync status", "Peers", "RPC latency",
            "Disk available and 24h prediction"} <= titles


def _jobs(config: Path) -> dict[str, dict]:
    return {job["job_name"]: job for job in yaml.safe_load(config.read_text())["scrape_configs"]}


def _targets(job: dict) -> list[str]:
    return [t for sc in job["static_configs"] for t in sc["targets"]]


def test_scrape_configs_cover_every_metrics_port(rendered):
    root = rendered["development"]
    ports = yaml.safe_load((root / "nodes/config/ports.yml").read_text())["ports"]
    metrics_ports = {(p["chain"], p["network"], p["client"]): p["port"] for p in ports if p["name"] == "metrics"}
    assert metrics_ports
    global_jobs = _jobs(root / "infrastructure/monitoring/prometheus/prometheus.yml")
    assert {"mevops-node-health", "mevops-engine", "node"} <= set(global_jobs)
    assert _targets(global_jobs["mevops-node-health"]) == ["127.0.0.1:9310"]
    assert _targets(global_jobs["node"]) == ["127.0.0.1:9100"]
    assert _targets(global_jobs["mevops-engine"]) == ["127.0.0.1:8080"]
    scraped = {}
    for job in global_jobs.values():
        for sc in job["static_configs"]:
            labels = sc.get("labels", {})
            if "chain" in labels:
                assert set(labels) == {"chain", "network", "client", "role"}, job["job_name"]
                scraped[(labels["chain"], labels["network"], labels["client"])] = sc["targets"][0]
    for key, port in metrics_ports.items():
        assert scraped.get(key) == f"127.0.0.1:{port}", key
    assert scraped[("avalanche", "mainnet", "avalanchego")] == "127.0.0.1:9650"  # /ext/metrics on its API port
    assert global_jobs["avalanche-mainnet-avalanchego"]["metrics_path"] == "/ext/metrics"
    assert global_jobs["ethereum-mainnet-geth"]["metrics_path"] == "/debug/metrics/prometheus"
    for chain_dir in files(root, "nodes/chains/*/monitoring"):
        chain = chain_dir.parent.name
        jobs = _jobs(chain_dir / "prometheus.yml")
        own = {k: v for k, v in scraped.items() if k[0] == chain}
        assert {_targets(j)[0] for n, j in jobs.items() if n not in ("mevops-node-health", "node")} == set(own.values()), chain
        assert jobs["mevops-node-health"]["metric_relabel_configs"][0]["regex"] == chain


def test_monitoring_ports_are_free(rendered):
    from mevops.reference import reference_root
    from mevops.render.monitoring import MONITORING_PORTS, NODE_HEALTH_EXPORTER_PORT

    assert NODE_HEALTH_EXPORTER_PORT == 9310
    catalog_ports = set()
    for path in (reference_root() / "chains").glob("*.yml"):
        chain = yaml.safe_load(path.read_text())
        offsets = {key: net.get("port_offset", 0) for key, net in chain["networks"].items()}
        for client in chain["clients"].values():
            for key in client.get("networks", ["mainnet", "testnet"]):
                catalog_ports.update(port + offsets[key] for port in client["ports"].values())
    taken = set(MONITORING_PORTS.values()) & catalog_ports
    assert not taken, f"catalog ports clash with monitoring ports: {sorted(taken)}"
    for env in ENVIRONMENTS:
        rendered_ports = {p["port"] for p in yaml.safe_load((rendered[env] / "nodes/config/ports.yml").read_text())["ports"]}
        assert not rendered_ports & (set(MONITORING_PORTS.values()) | {8080}), env


def test_grafana_provisioning_points_at_rendered_dashboards(rendered):
    root = rendered["production"]
    provisioning = root / "infrastructure/monitoring/grafana/provisioning"
    providers = yaml.safe_load((provisioning / "dashboards/mevops.yml").read_text())["providers"]
    assert len({p["name"] for p in providers}) == len(providers)
    provided = {p for provider in providers for p in Path(provider["options"]["path"]).glob("*.json")}
    assert provided == set(dashboards(root))
    sources = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"]
    assert DATASOURCE_UID in {s["uid"] for s in sources}


def test_logrotate_config(rendered, tmp_path):
    logrotate = require_tool("logrotate")
    for env in ENVIRONMENTS:
        conf = rendered[env] / "infrastructure/monitoring/logging/logrotate.conf"
        result = run_tool(logrotate, "-d", "-s", tmp_path / f"{env}.state", conf)
        assert result.returncode == 0 and "error" not in result.stderr.lower(), result.stderr[-3000:]
    text = (rendered["production"] / "infrastructure/monitoring/logging/logrotate.conf").read_text()
    assert "rotate 90\n" in text and "maxage 365\n" in text  # production keeps logs 90 days, audit logs a year


def test_vector_pipeline_is_wired(rendered):
    root = rendered["development"]
    doc = yaml.safe_load((root / "infrastructure/monitoring/logging/vector.yaml").read_text())
    ids = set(doc["sources"]) | set(doc.get("transforms", {}))
    for section in ("transforms", "sinks"):
        for name, component in doc[section].items():
            assert component["inputs"] and set(component["inputs"]) <= ids, f"{section}.{name}"
    includes = [p for s in doc["sources"].values() for p in s["include"]]
    assert all(p.startswith(str(root) + "/nodes/chains/") for p in includes)
    remap = doc["transforms"]["labelled"]["source"]
    pattern = re.search(r"r'([^']+)'", remap).group(1)
    match = re.search(pattern, f"{root}/nodes/chains/ethereum/logs/application/geth.log")
    assert match and match.group("chain") == "ethereum" and match.group("service") == "geth"


# -- promtool unit tests: the alerts fire when they should, and only then ----------------------
def _expected_annotations(rule: dict, labels: dict[str, str], value: str) -> dict[str, str]:
    def expand(text: str) -> str:
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        return re.sub(r"\{\{ \$value[^}]*\}\}", value, text)

    return {k: expand(v) for k, v in rule["annotations"].items()}


def _rule(path: Path, alert: str, **labels: str) -> dict:
    found = [r for r in alerting_rules(path) if r["alert"] == alert and labels.items() <= r["labels"].items()]
    assert len(found) == 1, (alert, labels)
    return found[0]


def _exp_alert(path: Path, alert: str, series_labels: dict[str, str], value: str = "", **rule_labels: str) -> dict:
    rule = _rule(path, alert, **rule_labels)
    labels = {**series_labels, **{k: str(v) for k, v in rule["labels"].items()}}
    return {"exp_labels": labels, "exp_annotations": _expected_annotations(rule, {**labels, "alertname": alert}, value)}


def _selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _run_promtool_tests(tmp_path: Path, rules: Path, tests: list[dict]) -> None:
    promtool = require_tool("promtool")
    spec = tmp_path / f"{rules.stem}_test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "15s", "tests": tests}, sort_keys=False))
    result = run_tool(promtool, "test", "rules", spec)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_node_alerts_fire(rendered, tmp_path):
    root = rendered["development"]
    rules = root / "nodes/chains/ethereum/monitoring/alerts/ethereum.yml"
    geth = {"chain": "ethereum", "network": "mainnet", "client": "geth", "role": "execution"}
    data_dir = root / "nodes/chains/ethereum/data/mainnet"
    disk = {"mountpoint": str(data_dir), "instance": "127.0.0.1:9100", "job": "node"}
    net = {"chain": "ethereum", "network": "mainnet"}
    tests = [
        {   # a head that stays put fires after 10 blocks (window) + 10 blocks (for), not before
            "interval": "15s",
            "input_series": [{"series": "mevops_node_head_block" + _selector(geth), "values": "100x80"}],
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "NodeHeadNotAdvancing", "exp_alerts": []},
                {"eval_time": "10m", "alertname": "NodeHeadNotAdvancing",
                 "exp_alerts": [_exp_alert(rules, "NodeHeadNotAdvancing", geth, **net)]},
            ],
        },
        {   # a moving head does not
            "interval": "15s",
            "input_series": [{"series": "mevops_node_head_block" + _selector(geth), "values": "100+1x80"}],
            "alert_rule_test": [{"eval_time": "10m", "alertname": "NodeHeadNotAdvancing", "exp_alerts": []}],
        },
        {   # a disk that loses 100 MB every 15s (of 100 GB free) is full within 24h
            "interval": "15s",
            "input_series": [
                {"series": "node_filesystem_avail_bytes" + _selector(disk), "values": "100000000000-100000000x400"},
                {"series": "node_filesystem_size_bytes" + _selector(disk), "values": "200000000000x400"},
            ],
            "alert_rule_test": [
                {"eval_time": "20m", "alertname": "NodeDiskWillFillIn24h", "exp_alerts": []},
                {"eval_time": "1h", "alertname": "NodeDiskWillFillIn24h",
                 "exp_alerts": [_exp_alert(rules, "NodeDiskWillFillIn24h", disk, **net)]},
                {"eval_time": "1h", "alertname": "NodeDiskAlmostFull", "exp_alerts": []},
            ],
        },
        {   # a steady disk never is
            "interval": "15s",
            "input_series": [{"series": "node_filesystem_avail_bytes" + _selector(disk), "values": "100000000000x400"}],
            "alert_rule_test": [{"eval_time": "1h", "alertname": "NodeDiskWillFillIn24h", "exp_alerts": []}],
        },
        {   # 100 blocks behind the reference while not syncing: lagging and far behind; zero peers
            "interval": "15s",
            "input_series": [
                {"series": "mevops_node_reference_head_block" + _selector(net), "values": "200x80"},
                {"series": "mevops_node_head_block" + _selector(geth), "values": "100x80"},
                {"series": "mevops_node_syncing" + _selector(geth), "values": "0x80"},
                {"series": "mevops_node_peers" + _selector(geth), "values": "0x80"},
            ],
            "alert_rule_test": [
                {"eval_time": "10m", "alertname": "NodeHeadLagging",
                 "exp_alerts": [_exp_alert(rules, "NodeHeadLagging", geth, "100", **net)]},
                {"eval_time": "10m", "alertname": "NodeHeadFarBehind",
                 "exp_alerts": [_exp_alert(rules, "NodeHeadFarBehind", geth, "100", **net)]},
                {"eval_time": "10m", "alertname": "NodeNoPeers",
                 "exp_alerts": [_exp_alert(rules, "NodeNoPeers", geth, **net)]},
            ],
        },
        {   # the same lag while the client says it is syncing: no lag alert (NodeSyncingTooLong covers it)
            "interval": "15s",
            "input_series": [
                {"series": "mevops_node_reference_head_block" + _selector(net), "values": "200x80"},
                {"series": "mevops_node_head_block" + _selector(geth), "values": "100x80"},
                {"series": "mevops_node_syncing" + _selector(geth), "values": "1x80"},
            ],
            "alert_rule_test": [{"eval_time": "10m", "alertname": "NodeHeadFarBehind", "exp_alerts": []}],
        },
        {   # no health data at all for geth: reported as such
            "interval": "1m",
            "input_series": [{"series": "mevops_node_rpc_up" + _selector({**net, "client": "lighthouse", "role": "consensus"}),
                              "values": "0x20"}],
            "alert_rule_test": [
                {"eval_time": "15m", "alertname": "NodeRpcDown",
                 "exp_alerts": [_exp_alert(rules, "NodeRpcDown", {**net, "client": "lighthouse", "role": "consensus"}, **net)]},
            ],
        },
    ]
    _run_promtool_tests(tmp_path, rules, tests)


def test_mev_alerts_fire(rendered, tmp_path):
    rules = rendered["development"] / "mev/monitoring/alerts/mev.yml"
    arb = {"engine": "arbitrage-engine"}
    tests = [
        {
            "interval": "1m",
            "input_series": [
                {"series": "mevops_engine_daily_pnl_usd" + _selector(arb), "values": "0 -1000000000x10"},
                {"series": "mevops_engine_running" + _selector(arb), "values": "1x200"},
                {"series": "mevops_engine_running" + _selector({"engine": "liquidation-engine"}), "values": "0x200"},
                {"series": "mevops_engine_opportunities_found_total" + _selector({**arb, "strategy": "s", "chain": "ethereum"}),
                 "values": "0x200"},
                {"series": "mevops_engine_queue_dropped_total" + _selector({**arb, "queue": "events"}), "values": "0+5x200"},
            ],
            "alert_rule_test": [
                {"eval_time": "0m", "alertname": "MevDailyLossLimitReached", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "MevDailyLossLimitReached",
                 "exp_alerts": [_exp_alert(rules, "MevDailyLossLimitReached", {}, "-1G")]},
                {"eval_time": "5m", "alertname": "MevDailyLossApproachingLimit",
                 "exp_alerts": [_exp_alert(rules, "MevDailyLossApproachingLimit", {}, "-1G")]},
                {"eval_time": "5m", "alertname": "MevEngineStopped",
                 "exp_alerts": [_exp_alert(rules, "MevEngineStopped", {"engine": "liquidation-engine"}, engine="liquidation-engine")]},
                {"eval_time": "20m", "alertname": "MevEngineNotReporting",
                 "exp_alerts": [_exp_alert(rules, "MevEngineNotReporting", {"engine": "protection-engine"}, engine="protection-engine")]},
                {"eval_time": "10m", "alertname": "MevQueueDropping",
                 "exp_alerts": [_exp_alert(rules, "MevQueueDropping", {**arb, "queue": "events"}, "25")]},
                {"eval_time": "30m", "alertname": "MevNoOpportunities", "exp_alerts": []},
                {"eval_time": "3h", "alertname": "MevNoOpportunities",
                 "exp_alerts": [_exp_alert(rules, "MevNoOpportunities", arb)]},
            ],
        },
        {   # two replicas: the signer moves from one to the other within a scrape; later neither holds it
            "interval": "15s",
            "input_series": [
                {"series": "mevops_engine_running" + _selector({**arb, "instance": "a"}), "values": "1x40"},
                {"series": "mevops_engine_running" + _selector({**arb, "instance": "b"}), "values": "1x40"},
                {"series": "mevops_engine_active_signer" + _selector({**arb, "instance": "a"}), "values": "1 1 1 0x37"},
                {"series": "mevops_engine_active_signer" + _selector({**arb, "instance": "b"}), "values": "0 0 0 1 1 1 0x34"},
                {"series": "mevops_engine_emergency_stop" + _selector({**arb, "instance": "a"}), "values": "0 0 1x38"},
                {"series": "mevops_engine_risk_headroom_ratio" + _selector({**arb, "limit": "daily_loss"}), "values": "0.5 0.1x39"},
            ],
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "MevNoActiveSigner", "exp_alerts": []},
                {"eval_time": "3m", "alertname": "MevNoActiveSigner", "exp_alerts": [_exp_alert(rules, "MevNoActiveSigner", arb)]},
                {"eval_time": "15s", "alertname": "MevEmergencyStop", "exp_alerts": []},
                {"eval_time": "1m", "alertname": "MevEmergencyStop", "exp_alerts": [_exp_alert(rules, "MevEmergencyStop", arb)]},
                {"eval_time": "30s", "alertname": "MevRiskHeadroomLow", "exp_alerts": []},
                {"eval_time": "2m", "alertname": "MevRiskHeadroomLow",
                 "exp_alerts": [_exp_alert(rules, "MevRiskHeadroomLow", {**arb, "limit": "daily_loss"}, "10%")]},
            ],
        },
    ]
    _run_promtool_tests(tmp_path, rules, tests)


def test_monitoring_view_helpers():
    from mevops.render.monitoring import log_rotation, mountpoint_regex

    regex = mountpoint_regex("/data/block.chain/nodes/chains/eth/data/mainnet/geth")
    assert regex.split("|")[:3] == ["/", "/data", "/data/block[.]chain"]
    assert re.fullmatch(regex, "/data/block.chain") and not re.fullmatch(regex, "/data/blockxchain")
    assert not re.fullmatch(regex, "/data/block.chain/nodes/chains/eth/data/testnet")
    hourly = log_rotation("hourly", 7 * 86400, 365 * 86400)
    assert (hourly.frequency, hourly.keep, hourly.max_age_days) == ("hourly", 168, 7)
    by_size = log_rotation("100 MiB", 30 * 86400, 365 * 86400)
    assert (by_size.frequency, by_size.max_size, by_size.keep) == (None, 100 * 2**20, 30)
