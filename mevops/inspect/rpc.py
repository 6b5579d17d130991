"""Fetch a block's ``trace_block`` traces and receipts from a node, in the inspector's shape.

Needs the parity-style trace API (Erigon, Reth, Nethermind, OpenEthereum; anvil answers
``trace_block`` too). Receipts come from ``eth_getBlockReceipts``, or one
``eth_getTransactionReceipt`` per transaction (one batch request) where that is missing.
Node receipts carry ``status`` and ``logs``, so the inspector decodes such blocks from events.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.inspect.block import BadBlock, Block, dotted, parse_block

METHOD_NOT_FOUND = -32601


class RpcFailed(Exception):
    def __init__(self, method: str, code: int | None, message: str) -> None:
        self.method, self.code, self.message = method, code, message
        super().__init__(f"{method}: {message}")


class JsonRpc:
    """A minimal synchronous JSON-RPC client over HTTP (batch requests included)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout, self._id = url, timeout, 0

    def _post(self, payload: Any) -> Any:
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(),
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the user's node
            return json.loads(response.read())

    def _result(self, method: str, answer: Any) -> Any:
        if not isinstance(answer, dict):
            raise RpcFailed(method, None, "the node's answer is not a JSON-RPC response")
        if answer.get("error"):
            error = answer["error"]
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise RpcFailed(method, code, message)
        return answer.get("result")

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        return self._result(method, self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}))

    def batch(self, method: str, params: list[list[Any]]) -> list[Any]:
        if not params:
            return []
        first = self._id + 1
        self._id += len(params)
        answers = self._post([{"jsonrpc": "2.0", "id": first + i, "method": method, "params": p} for i, p in enumerate(params)])
        if not isinstance(answers, list):
            return [self._result(method, answers)]
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        return [self._result(method, by_id.get(first + i)) for i in range(len(params))]


def _receipts(rpc: JsonRpc, number: str, header: dict[str, Any]) -> list[Any]:
    try:
        receipts = rpc.call("eth_getBlockReceipts", number)
        if receipts is not None:
            return receipts
    except RpcFailed as exc:
        if exc.code != METHOD_NOT_FOUND:
            raise
    return rpc.batch("eth_getTransactionReceipt", [[h] for h in header.get("transactions", [])])


def fetch_block_document(url: str, block: int | str) -> dict[str, Any]:
    """``{"block_number", "traces", "receipts"}`` for block ``block`` (a number or ``"latest"``)."""
    rpc = JsonRpc(url)
    number = hex(block) if isinstance(block, int) else block
    if number == "latest":
        number = rpc.call("eth_blockNumber")
    header = rpc.call("eth_getBlockByNumber", number, False)
    if not isinstance(header, dict):
        raise RpcFailed("eth_getBlockByNumber", None, f"the node has no block {int(number, 16)}")
    traces = rpc.call("trace_block", number)
    if traces is None:
        raise RpcFailed("trace_block", None, f"the node has no traces of block {int(number, 16)}")
    return {"block_number": int(number, 16), "miner": header.get("miner"), "traces": traces,
            "receipts": _receipts(rpc, number, header)}


def fetch_block(url: str, block: int | str) -> Block:
    """Fetch and parse a block; node and network failures are one-line :class:`MevopsError`s."""
    try:
        doc = fetch_block_document(url, block)
    except RpcFailed as exc:
        hint = (" (the node has no trace API: use an archive node with trace_block, e.g. Erigon or Reth)"
                if exc.method == "trace_block" and exc.code == METHOD_NOT_FOUND else "")
        raise MevopsError(Problem(url, None, exc.method, exc.message + hint)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise MevopsError(Problem(url, None, "rpc", f"cannot fetch block {block}: {reason}")) from None
    try:
        return parse_block(doc, f"{url} block {doc['block_number']}")
    except BadBlock as exc:
        raise MevopsError(Problem(url, None, dotted(exc.path), f"unexpected answer: {exc.reason}")) from None
