"""The bundle relay's JSON-RPC shapes (Flashbots ``eth_sendBundle``, ``eth_cancelBundle``, ``eth_callBundle``).

``eth_sendBundle`` params: ``txs`` (signed raw transactions, 0x-hex, executed in order, all or
nothing), ``blockNumber`` (0x-hex: the one block the bundle is valid for), optional
``minTimestamp``/``maxTimestamp`` (JSON numbers, unix seconds), ``revertingTxHashes`` (hashes
allowed to revert), ``replacementUuid`` (a later bundle with the same uuid, from the same
signer, replaces it; ``eth_cancelBundle`` removes it) and ``builders`` (names the relay may
share the bundle with). ``eth_callBundle`` simulates ``txs`` on ``stateBlockNumber`` as block
``blockNumber``. Bodies are compact JSON built once: the signature covers these exact bytes.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mevops.engine.bundles.hashing import keccak

SEND, CANCEL, CALL = "eth_sendBundle", "eth_cancelBundle", "eth_callBundle"
MAX_TXS = 100                   # the Flashbots relay's limits
MAX_BODY_BYTES = 300_000
_ids = itertools.count(1)


def tx_hash(raw: bytes) -> str:
    return "0x" + keccak(raw).hex()


def block_uuid(base: str, block: int) -> str:
    """The replacement uuid of a bundle's copy for one target block: relays replace by uuid, so a
    bundle sent for blocks n..n+k needs one uuid per block (derived, so cancelling needs only ``base``)."""
    return str(uuid.uuid5(uuid.UUID(base), str(block)))


@dataclass(frozen=True)
class Bundle:
    txs: tuple[bytes, ...]
    block: int
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    reverting_tx_hashes: tuple[str, ...] = ()
    replacement_uuid: str | None = None
    builders: tuple[str, ...] = field(default=())

    @cached_property
    def tx_hashes(self) -> tuple[str, ...]:
        return tuple(tx_hash(raw) for raw in self.txs)

    @cached_property
    def hash(self) -> str:
        """keccak256 of the concatenated transaction hashes (the bundle hash relays answer with)."""
        return "0x" + keccak(b"".join(bytes.fromhex(h[2:]) for h in self.tx_hashes)).hex()

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"txs": ["0x" + raw.hex() for raw in self.txs], "blockNumber": hex(self.block)}
        if self.min_timestamp is not None:
            out["minTimestamp"] = self.min_timestamp
        if self.max_timestamp is not None:
            out["maxTimestamp"] = self.max_timestamp
        if self.reverting_tx_hashes:
            out["revertingTxHashes"] = list(self.reverting_tx_hashes)
        if self.replacement_uuid is not None:
            out["replacementUuid"] = self.replacement_uuid
        if self.builders:
            out["builders"] = list(self.builders)
        return out


def body(method: str, params: list[Any], request_id: int | None = None) -> bytes:
    """A JSON-RPC request as the exact bytes to sign and send."""
    rid = next(_ids) if request_id is None else request_id
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}, separators=(",", ":")).encode()


def send_bundle_body(bundle: Bundle, request_id: int | None = None) -> bytes:
    return body(SEND, [bundle.params()], request_id)


def cancel_bundle_body(replacement_uuid: str, request_id: int | None = None) -> bytes:
    return body(CANCEL, [{"replacementUuid": replacement_uuid}], request_id)


def call_bundle_body(txs: tuple[bytes, ...] | list[bytes], block: int, state_block: int | str = "latest",
                     timestamp: int | None = None, request_id: int | None = None) -> bytes:
    params: dict[str, Any] = {"txs": ["0x" + raw.hex() for raw in txs], "blockNumber": hex(block),
                              "stateBlockNumber": state_block if isinstance(state_block, str) else hex(state_block)}
    if timestamp is not None:
        params["timestamp"] = timestamp
    return body(CALL, [params], request_id)


# -- the relay's side: parse what arrives --------------------------------------------------------
class BadParams(ValueError):
    """``key: reason`` for a JSON-RPC -32602 answer."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


def _hex_bytes(value: Any, key: str) -> bytes:
    if not isinstance(value, str) or value[:2] not in ("0x", "0X") or len(value) < 4:
        raise BadParams(key, "expected 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise BadParams(key, "not hex") from None


def _quantity(value: Any, key: str) -> int:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise BadParams(key, "expected a 0x-hex number")


def _timestamp(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadParams(key, "expected a non-negative integer (unix seconds)")
    return value or None  # 0 means "no bound", as in the Flashbots examples


def _txs(params: dict[str, Any]) -> tuple[bytes, ...]:
    txs = params.get("txs")
    if not isinstance(txs, list) or not txs:
        raise BadParams("txs", "expected a non-empty list of signed transactions")
    if len(txs) > MAX_TXS:
        raise BadParams("txs", f"at most {MAX_TXS} transactions")
    return tuple(_hex_bytes(tx, f"txs[{i}]") for i, tx in enumerate(txs))


def _single_object(params: Any, method: str) -> dict[str, Any]:
    if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
        raise BadParams("params", f"{method} takes one object")
    return params[0]


def parse_send_bundle(params: Any) -> Bundle:
    p = _single_object(params, SEND)
    reverting = p.get("revertingTxHashes") or []
    if not isinstance(reverting, list):
        raise BadParams("revertingTxHashes", "expected a list of transaction hashes")
    hashes = tuple("0x" + _hex_bytes(h, f"revertingTxHashes[{i}]").hex() for i, h in enumerate(reverting))
    if any(len(h) != 66 for h in hashes):
        raise BadParams("revertingTxHashes", "transaction hashes are 32 bytes")
    replacement = p.get("replacementUuid")
    if replacement is not None and (not isinstance(replacement, str) or not replacement):
        raise BadParams("replacementUuid", "expected a non-empty string")
    builders = p.get("builders") or []
    if not isinstance(builders, list) or not all(isinstance(b, str) for b in builders):
        raise BadParams("builders", "expected a list of names")
    if "blockNumber" not in p:
        raise BadParams("blockNumber", "required: the block this bundle is for")
    bundle = Bundle(_txs(p), _quantity(p["blockNumber"], "blockNumber"), _timestamp(p.get("minTimestamp"), "minTimestamp"),
                    _timestamp(p.get("maxTimestamp"), "maxTimestamp"), hashes, replacement, tuple(builders))
    if bundle.min_timestamp and bundle.max_timestamp and bundle.min_timestamp > bundle.max_timestamp:
        raise BadParams("minTimestamp", "later than maxTimestamp")
    return bundle


def parse_cancel_bundle(params: Any) -> str:
    replacement = _single_object(params, CANCEL).get("replacementUuid")
    if not isinstance(replacement, str) or not replacement:
        raise BadParams("replacementUuid", "required: the uuid the bundle was sent with")
    return replacement


@dataclass(frozen=True)
class CallBundle:
    txs: tuple[bytes, ...]
    block: int
    state_block: int | str
    timestamp: int | None


def parse_call_bundle(params: Any) -> CallBundle:
    p = _single_object(params, CALL)
    if "blockNumber" not in p:
        raise BadParams("blockNumber", "required: the block to simulate the bundle as")
    state = p.get("stateBlockNumber", "latest")
    if state not in ("latest", "pending"):
        state = _quantity(state, "stateBlockNumber")
    return CallBundle(_txs(p), _quantity(p["blockNumber"], "blockNumber"), state, _timestamp(p.get("timestamp"), "timestamp"))
