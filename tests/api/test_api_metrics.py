"""/metrics speaks Prometheus' text format (parsed by prometheus_client's own parser) and exposes
every engine metric the rendered alert rules and dashboards use."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mevops.render.monitoring import ENGINE_METRICS
from tests.api.world import api_world


def test_metrics_exposition_covers_what_the_rendered_rules_use(workspace, tmp_path):
    async def scenario():
        async with api_world(workspace, tick=0.02) as w:
            await asyncio.sleep(0.5)
            w.service.risk.breaker("eth-usdc-dex-arbitrage")  # a breaker exists: its gauge is exposed
            async with httpx.AsyncClient(base_url=w.url) as c:
                return (await c.get("/metrics")).text

    text = asyncio.run(scenario())
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {s.name: s for f in families.values() for s in f.samples}
    for spec in ENGINE_METRICS:
        family = spec.name.removesuffix("_total") if spec.type == "counter" else spec.name
        assert family in families and families[family].type == spec.type, spec.name
    assert samples["mevops_engine_blocks_processed_total"].value >= 5
    assert samples["mevops_engine_opportunities_found_total"].value >= 5
    assert samples["mevops_engine_running"].value == 1

    root = tmp_path / "root"
    subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), "render", "--root", str(root)], check=True,
                   capture_output=True)
    used = set()
    for path in list((root / "mev/monitoring").rglob("*")) + list((root / "infrastructure/monitoring").rglob("*")):
        if path.is_file():
            used |= set(re.findall(r"mevops_engine_[a-z_]+", path.read_text(errors="replace")))
    used.discard("mevops_engine_")
    assert used, "the rendered rules and dashboards use engine metrics"
    exposed = {s for s in samples} | {spec.name for spec in ENGINE_METRICS}
    assert used <= exposed, f"rendered but not exposed: {sorted(used - exposed)}"
