"""Resolve ``CHAIN --network N`` against the workspace model into a Node (exit 2 if unknown)."""

from __future__ import annotations

from pathlib import Path

from mevops.errors import MevopsError, Problem
from mevops.lifecycle.base import Node


def resolve_nodes(ws, env: str, root: Path, chain: str, network: str | None):  # noqa: ANN001, ANN201
    """The nodes of ``chain`` (one network, or every enabled network)."""
    from mevops.render.run import RenderRequest, load_context

    ctx = load_context(ws, RenderRequest(root, env, [chain], [network] if network else None))
    view = next(c for c in ctx.chains if c.name == chain)
    networks = [n for n in view.networks if network in (None, n.key)]
    if not networks:
        raise MevopsError(Problem("--network", None, network or "", f"{chain} has no enabled {network} network"))
    return [Node(view, n, root) for n in networks], ctx


def resolve_node(ws, env: str, root: Path, chain: str, network: str) -> Node:  # noqa: ANN001
    return resolve_nodes(ws, env, root, chain, network)[0][0]
