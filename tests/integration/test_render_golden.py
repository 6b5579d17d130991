"""Golden files pin a few representative renders of the reference workspace (production, planned
in memory for the target root /data/blockchain).

Regenerate after an intended template change: MEVOPS_UPDATE_GOLDEN=1 pytest tests/integration/test_render_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
PINNED = [
    "nodes/config/ports.yml",
    "nodes/chains/ethereum/deployment/docker-compose.yml",
    "nodes/chains/ethereum/config/mainnet.toml",
    "nodes/chains/ethereum/deployment/systemd/ethereum-mainnet-geth.service",
    "nodes/chains/ethereum/deployment/kubernetes/mainnet/geth-statefulset.yaml",
    "nodes/chains/arbitrum/monitoring/alerts/arbitrum.yml",
    "nodes/chains/optimism/config/mainnet.op-node.yaml",
    "mev/config/engine.yml",
]


@pytest.fixture(scope="module")
def planned(_pristine_workspace):
    from mevops.reference import templates_root
    from mevops.render.plan import plan_tree
    from mevops.render.run import RenderRequest, load_context
    from mevops.workspace import Workspace

    ws = Workspace.open(_pristine_workspace)
    ctx = load_context(ws, RenderRequest(Path("/data/blockchain"), "production"))
    return {f.path: f.content.decode() for f in plan_tree(templates_root(), ctx)[0]}


@pytest.mark.parametrize("rel", PINNED)
def test_golden(planned, rel):
    text = planned[rel]
    golden = GOLDEN / "production" / rel
    if os.environ.get("MEVOPS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {rel}: run with MEVOPS_UPDATE_GOLDEN=1"
    assert text == golden.read_text(), f"{rel} differs from tests/golden/production/{rel}"
