"""Node health, the thing operators check at 3 a.m.: one async check per client, by method.

EVM execution clients (and anvil): chain id matches the catalog; not syncing; block 0 while not
syncing is unhealthy (except local devnets); peers >= a minimum (not on local); head age <= k x
block time (not on local devnets that mine on demand); head lag vs a reference endpoint <= N blocks,
and the same height with a different hash is a divergence. Consensus clients: /eth/v1/node/syncing;
OP-stack: optimism_syncStatus; Solana: getHealth; others by their health endpoint.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from mevops.lifecycle.base import Node
    from mevops.render.context import ClientView


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class HealthReport:
    node: str
    client: str
    method: str
    url: str
    healthy: bool = False
    latency_ms: float | None = None
    head: int | None = None
    checks: list[Check] = field(default_factory=list)
    # what the checks measured, as numbers (the exporter's mevops_node_* and the dashboard's nodes page)
    peers: int | None = None
    syncing: bool | None = None
    lag: int | None = None              # blocks behind the reference
    reference_head: int | None = None

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Thresholds:
    min_peers: int = 1
    head_age_blocks: int = 5        # k: head older than k x block time is stale
    max_lag_blocks: int = 10        # N: behind the reference by more is lagging


class RpcError(Exception):
    pass


async def rpc(client: "httpx.AsyncClient", url: str, method: str, params: list | None = None) -> Any:
    response = await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise RpcError(body["error"].get("message", str(body["error"])))
    return body["result"]


async def _evm(http, report: HealthReport, node: "Node", url: str, reference: str | None, t: Thresholds) -> None:  # noqa: ANN001
    local = node.network.key == "local"
    started = time.perf_counter()
    chain_id, syncing, head = await asyncio.gather(rpc(http, url, "eth_chainId"), rpc(http, url, "eth_syncing"),
                                                   rpc(http, url, "eth_getBlockByNumber", ["latest", False]))
    report.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    expected = node.network.chain_id
    got = int(chain_id, 16)
    report.add("chain_id", expected is None or got == expected, f"{got}" + ("" if got == expected else f" (catalog says {expected})"))
    report.add("syncing", syncing is False, "synced" if syncing is False else f"syncing: {syncing}")
    report.syncing = syncing is not False
    number = int(head["number"], 16)
    report.head = number
    if not local:
        report.add("head", number > 0 or syncing is not False, f"block {number}")
        try:
            peers = report.peers = int(await rpc(http, url, "net_peerCount"), 16)
            report.add("peers", peers >= t.min_peers, f"{peers} (min {t.min_peers})")
        except RpcError as exc:
            report.add("peers", True, f"not supported by this client ({exc})")
        age = time.time() - int(head["timestamp"], 16)
        limit = t.head_age_blocks * node.network.block_time_ms / 1000
        report.add("head_age", age <= limit, f"{age:.0f}s (max {limit:.0f}s)")
    if reference:
        await _compare_reference(http, report, reference, number, head["hash"], t)


async def _compare_reference(http, report: HealthReport, reference: str, number: int, our_hash: str, t: Thresholds) -> None:  # noqa: ANN001
    import httpx

    try:
        ref_head = int(await rpc(http, reference, "eth_blockNumber"), 16)
        theirs = await rpc(http, reference, "eth_getBlockByNumber", [hex(number), False]) if ref_head >= number else None
    except (httpx.HTTPError, RpcError, ValueError) as exc:
        report.add("reference", True, f"reference {reference} unreachable ({type(exc).__name__}); lag not checked")
        return
    lag = ref_head - number
    report.lag, report.reference_head = lag, ref_head
    report.add("lag", lag <= t.max_lag_blocks, f"{lag} blocks behind the reference (max {t.max_lag_blocks})")
    if theirs is not None:
        same = theirs["hash"] == our_hash
        report.add("divergence", same, "same hash as the reference" if same else
                   f"same height {number}, different hash: ours {our_hash[:12]}…, reference {theirs['hash'][:12]}…")


async def _get_json(http, url: str) -> Any:  # noqa: ANN001
    response = await http.get(url)
    response.raise_for_status()
    return response.json() if response.content else {}


async def _beacon(http, report: HealthReport, node: "Node", base: str, reference: str | None, t: Thresholds) -> None:  # noqa: ANN001, ARG001
    started = time.perf_counter()
    data = (await _get_json(http, base + "/eth/v1/node/syncing"))["data"]
    report.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    report.head = int(data.get("head_slot", 0))
    report.syncing = bool(data.get("is_syncing"))
    report.add("syncing", not data.get("is_syncing"), f"head slot {report.head}, distance {data.get('sync_distance')}")
    report.add("el_offline", not data.get("el_offline", False), "execution client reachable" if not data.get("el_offline") else "execution client offline")


async def _optimism(http, report: HealthReport, node: "Node", url: str, reference: str | None, t: Thresholds) -> None:  # noqa: ANN001, ARG001
    started = time.perf_counter()
    status = await rpc(http, url, "optimism_syncStatus")
    report.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    unsafe = status.get("unsafe_l2", {})
    report.head = unsafe.get("number")
    age = time.time() - unsafe.get("timestamp", 0)
    limit = t.head_age_blocks * node.network.block_time_ms / 1000
    report.add("unsafe_head_age", age <= limit, f"{age:.0f}s (max {limit:.0f}s)")


async def _solana(http, report: HealthReport, node: "Node", url: str, reference: str | None, t: Thresholds) -> None:  # noqa: ANN001, ARG001
    started = time.perf_counter()
    try:
        health = await rpc(http, url, "getHealth")
        report.add("health", health == "ok", str(health))
    except RpcError as exc:
        report.add("health", False, str(exc))
    report.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    report.head = await rpc(http, url, "getSlot")


async def _http(http, report: HealthReport, node: "Node", url: str, reference: str | None, t: Thresholds) -> None:  # noqa: ANN001, ARG001
    started = time.perf_counter()
    response = await http.get(url)
    report.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    ok = response.status_code == 200
    if ok and report.method == "avalanche_health":
        ok = bool(response.json().get("healthy"))
    report.add("status", ok, f"HTTP {response.status_code}")


CHECKS = {
    "eth_syncing": _evm,
    "beacon_syncing": _beacon,
    "optimism_sync": _optimism,
    "solana_health": _solana,
    "heimdall_status": _http,
    "avalanche_health": _http,
    "http_status": _http,
}


async def check_client(node: "Node", client: "ClientView", reference: str | None = None, thresholds: Thresholds | None = None,
                       timeout: float = 5.0) -> HealthReport:
    import httpx

    t = thresholds or Thresholds()
    method = client.health.method
    url = f"http://127.0.0.1:{client.health.port}"
    if method in ("heimdall_status", "avalanche_health", "http_status"):
        url += client.health.path or ("/status" if method == "heimdall_status" else "/ext/health" if method == "avalanche_health" else "/")
    elif client.health.path and method == "eth_syncing":
        url += client.health.path
    report = HealthReport(node.name, client.name, method, url)
    ref = reference if client.role in ("execution", "devnet") else None
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            await CHECKS[method](http, report, node, url, ref, t)
    except (httpx.HTTPError, RpcError, ValueError, KeyError, TypeError) as exc:
        report.add("rpc", False, f"unreachable: {type(exc).__name__}: {exc}" if str(exc) else f"unreachable: {type(exc).__name__}")
    report.healthy = bool(report.checks) and all(c.ok for c in report.checks)
    return report


async def check_node(node: "Node", reference: str | None = None, thresholds: Thresholds | None = None) -> list[HealthReport]:
    default_ref = reference if reference is not None else (node.network.reference_rpc if node.network.key != "local" else None)
    return list(await asyncio.gather(*(check_client(node, c, default_ref, thresholds) for c in node.services)))
