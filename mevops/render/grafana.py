"""Grafana panel JSON for the rendered dashboards (node dashboards per chain and the MEV overview).

Built in Python rather than as Jinja macros: a dashboard has a dozen panels per network and the
macro version was the slowest part of a render. Templates call ``grafana.row(...)`` and
``grafana.panel(...)`` (a global of the Jinja environment); each returns one panel as compact JSON.
Every panel reads the Prometheus data source that grafana/provisioning/datasources/prometheus.yml
provisions with this uid.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

DATASOURCE = {"type": "prometheus", "uid": "mevops-prometheus"}
REF_IDS = "ABCDEFGHIJ"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def row(id: int, title: str, y: int) -> str:  # noqa: A002 - Grafana's field name
    return _dump({"id": id, "type": "row", "title": title, "collapsed": False, "panels": [],
                  "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}})


def panel(id: int, type: str, title: str, grid: Sequence[int], targets: Sequence[Sequence[str]], *,  # noqa: A002
          unit: str = "none", description: str = "", thresholds: Sequence[Sequence[Any]] | None = None,
          mappings: Sequence[Sequence[Any]] | None = None, stack: bool = False) -> str:
    """targets: [expr, legend] pairs; grid: [x, y, w, h]; thresholds: [color, value] pairs (the
    first value null: the base colour); mappings: [value, text, color] triples."""
    if len(targets) > len(REF_IDS):
        raise ValueError(f"panel {title!r}: at most {len(REF_IDS)} targets")
    defaults: dict[str, Any] = {
        "unit": unit,
        "mappings": [{"type": "value", "options": {
            str(value): {"text": text, "color": color, "index": i} for i, (value, text, color) in enumerate(mappings)}}]
        if mappings else [],
        "thresholds": {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in (thresholds or [["green", None]])]},
        "color": {"mode": "thresholds" if type == "stat" else "palette-classic"},
    }
    if type == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 20 if stack else 0, "showPoints": "never",
                              "spanNulls": False, "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    if type == "stat":
        options: dict[str, Any] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                                   "colorMode": "value", "graphMode": "none", "justifyMode": "auto", "textMode": "auto",
                                   "orientation": "auto"}
    else:
        options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "multi", "sort": "desc"}}
    return _dump({
        "id": id, "type": type, "title": title, "description": description, "datasource": DATASOURCE,
        "gridPos": {"x": grid[0], "y": grid[1], "w": grid[2], "h": grid[3]},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [{"refId": REF_IDS[i], "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
    })
