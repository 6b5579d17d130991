"""The devnet bundle relay: Flashbots' JSON-RPC methods in front of an anvil whose blocks it builds.

Every request must carry a valid ``X-Flashbots-Signature`` over its exact body (HTTP 403
otherwise); the signing address owns the ``replacementUuid`` values it uses. Methods:

- ``eth_sendBundle`` → ``{"bundleHash"}``; refused if its block is already built.
- ``eth_cancelBundle`` → ``true`` if a pending bundle of this signer with that uuid was removed.
- ``eth_callBundle`` → Flashbots' simulation result (``eth_simulateV1`` on the node, nothing mined).
- ``mevops_bundleStatus`` ``[bundleHash]`` → per target block: pending | included | failed |
  cancelled | replaced | expired, with the reason and the block it landed in.

Every ``block_time`` seconds the relay builds the next block (``BlockBuilder``). ``builders`` is
accepted and ignored: the relay is the only builder of its chain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from mevops.engine.bundles import requests
from mevops.engine.bundles.auth import SignatureError, verify
from mevops.engine.bundles.relay.builder import BlockBuilder, BuiltBlock
from mevops.engine.bundles.relay.pool import BundlePool, StoredBundle
from mevops.engine.bundles.relay.simulation import simulate
from mevops.engine.bundles.relay.txcodec import decode_tx
from mevops.errors import MevopsError, Problem

log = logging.getLogger("mevops.relay")

DEFAULT_COINBASE = "0x000000000000000000000000000000000000c01b"   # where builder payments go on the devnet
INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, SERVER_ERROR = -32600, -32601, -32602, -32000


class DevnetRelay:
    def __init__(self, rpc_url: str, *, coinbase: str = DEFAULT_COINBASE, block_time: float = 1.0) -> None:
        from mevops.engine.collectors.rpc import HttpRpc

        self.rpc_url, self.coinbase, self.block_time = rpc_url, coinbase, block_time
        self.rpc = HttpRpc(rpc_url)
        self.pool = BundlePool()
        self.chain_id = 0
        self.builder: BlockBuilder | None = None
        self.blocks: list[BuiltBlock] = []      # the last blocks built (bounded)
        self.head = 0
        self.built = 0                          # blocks built since start
        self.building: asyncio.Task | None = None

    async def connect(self) -> None:
        """Check the node is an anvil and take over its block production."""
        from mevops.engine.collectors.rpc import JsonRpcError

        try:
            self.chain_id = int(await self.rpc.call("eth_chainId"), 16)
            await self.rpc.call("anvil_getAutomine")
        except JsonRpcError as exc:
            raise MevopsError(Problem("--rpc", None, self.rpc_url,
                                      f"not an anvil ({exc}): the devnet relay mines blocks itself")) from None
        except Exception as exc:  # noqa: BLE001 - connection refused, DNS, TLS: all "cannot reach"
            raise MevopsError(Problem("--rpc", None, self.rpc_url, f"cannot reach the node: {type(exc).__name__}")) from None
        self.builder = BlockBuilder(self.rpc, self.pool, self.chain_id, self.coinbase)
        await self.builder.take_over()
        self.head = int(await self.rpc.call("eth_blockNumber"), 16)

    def start_building(self, blocks: int | None = None) -> asyncio.Task:
        self.building = asyncio.create_task(self._build_loop(blocks), name="relay-blocks")
        return self.building

    async def _build_loop(self, blocks: int | None) -> None:
        next_at = time.monotonic() + self.block_time
        while blocks is None or self.built < blocks:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at + self.block_time, time.monotonic())  # late: the next block waits, no burst
            try:
                await self.build_next()
            except Exception as exc:  # noqa: BLE001 - the node hiccuped: try again next tick
                log.warning("building a block failed: %s", exc)

    async def build_next(self) -> BuiltBlock:
        """Build one block now (the loop calls this every ``block_time``; tests may call it themselves)."""
        assert self.builder is not None, "connect() first"
        block = await self.builder.build()
        self.head = block.number
        self.blocks = (self.blocks + [block])[-256:]
        self.built += 1
        return block

    async def close(self) -> None:
        if self.building is not None:
            self.building.cancel()
            try:
                await self.building
            except asyncio.CancelledError:
                pass
        if self.builder is not None:
            try:
                await self.builder.give_back()
            except Exception as exc:  # noqa: BLE001 - the node may be gone already
                log.debug("could not restore the node's mining mode: %s", exc)
        await self.rpc.close()

    # -- JSON-RPC ------------------------------------------------------------------------------------------
    async def handle(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON-RPC answer) for one request body and its X-Flashbots-Signature header."""
        try:
            signer = verify(signature, body)
        except SignatureError as exc:
            return 403, _error(None, INVALID_REQUEST, f"invalid X-Flashbots-Signature: {exc}")
        try:
            request = json.loads(body)
        except ValueError:
            return 400, _error(None, -32700, "parse error: the body is not JSON")
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return 400, _error(None, INVALID_REQUEST, "one JSON-RPC request object (batches are not supported)")
        rid, method, params = request.get("id"), request["method"], request.get("params", [])
        handler = self._methods().get(method)
        if handler is None:
            return 200, _error(rid, METHOD_NOT_FOUND, f"method {method} is not offered by this relay")
        try:
            return 200, {"jsonrpc": "2.0", "id": rid, "result": await handler(params, signer)}
        except requests.BadParams as exc:
            return 200, _error(rid, INVALID_PARAMS, str(exc))
        except RelayRefusal as exc:
            return 200, _error(rid, SERVER_ERROR, str(exc))

    def _methods(self) -> dict[str, Any]:
        return {requests.SEND: self.send_bundle, requests.CANCEL: self.cancel_bundle, requests.CALL: self.call_bundle,
                "mevops_bundleStatus": self.bundle_status}

    async def send_bundle(self, params: Any, signer: str) -> dict[str, Any]:
        bundle = requests.parse_send_bundle(params)
        if bundle.block <= self.head:
            raise RelayRefusal(f"block {bundle.block} is already built (the next block is {self.head + 1})")
        txs = [decode_tx(raw, f"txs[{i}]") for i, raw in enumerate(bundle.txs)]
        stored = StoredBundle(bundle, txs, signer)
        replaced = self.pool.add(stored)
        log.info("bundle %s from %s for block %d (%d txs)%s", bundle.hash, signer, bundle.block, len(txs),
                 f", replaces {replaced.bundle.hash}" if replaced else "")
        return {"bundleHash": bundle.hash}

    async def cancel_bundle(self, params: Any, signer: str) -> bool:
        cancelled = self.pool.cancel(signer, requests.parse_cancel_bundle(params))
        if cancelled is not None:
            log.info("bundle %s cancelled by %s", cancelled.bundle.hash, signer)
        return cancelled is not None

    async def call_bundle(self, params: Any, signer: str) -> dict[str, Any]:
        call = requests.parse_call_bundle(params)
        txs = [decode_tx(raw, f"txs[{i}]") for i, raw in enumerate(call.txs)]
        state = await self.rpc.call("eth_getBlockByNumber", [call.state_block if isinstance(call.state_block, str)
                                                             else hex(call.state_block), False])
        if state is None:
            raise requests.BadParams("stateBlockNumber", "no such block")
        timestamp = call.timestamp or max(int(time.time()), int(state["timestamp"], 16) + 1)
        sim = await simulate(self.rpc, txs, call.block, timestamp, self.coinbase, self.chain_id, int(state["number"], 16))
        if sim.error:
            raise RelayRefusal(sim.error)
        return sim.as_json(requests.Bundle(call.txs, call.block).hash, int(state["number"], 16))

    async def bundle_status(self, params: Any, signer: str) -> dict[str, Any]:
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], str):
            raise requests.BadParams("params", "[bundleHash]")
        copies = self.pool.by_hash.get(params[0].lower())
        if not copies:
            raise RelayRefusal(f"unknown bundle {params[0]}")
        return {"bundleHash": params[0].lower(), "txs": list(copies[0].bundle.tx_hashes),
                "blocks": [stored.as_json() for stored in copies]}


class RelayRefusal(Exception):
    """The request is well formed but the relay will not do it (JSON-RPC -32000)."""


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
