"""A block as the inspector sees it: transactions, each with its call traces (and logs when known).

Input is the ``trace_block`` shape (OpenEthereum/Erigon parity traces) plus one receipt per
transaction, in a JSON object ``{"block_number", "traces": [...], "receipts": [...]}`` — the
format of ``shared/fixtures/mainnet-blocks``. Keys may be snake_case or camelCase (a node answers
camelCase). Receipts may carry ``status`` and ``logs`` (a node's do; the fixtures' do not).

A call is *reverted* when it or any call above it failed (``error`` set): nothing it did
happened. A transaction is reverted when its top call failed or its receipt says status 0.
Bad input raises :class:`~mevops.errors.MevopsError` naming the file, the line and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.inspect.abi import quantity


@dataclass(slots=True)
class Call:
    """One call trace. ``end`` is the index just past its subtree in the transaction's ``calls``."""

    index: int
    trace_address: tuple[int, ...]
    call_type: str  # call, delegatecall, staticcall, callcode, create, suicide
    sender: str  # action.from, lowercase
    to: str  # action.to, lowercase ('' for a create)
    input: str  # lowercase hex, 0x-prefixed
    output: str
    value: int
    error: str | None
    reverted: bool = False
    end: int = 0
    sel: str = ""  # the 4-byte function selector, 8 lowercase hex digits ('' when none)

    @property
    def depth(self) -> int:
        return len(self.trace_address)


@dataclass(slots=True)
class Log:
    address: str
    topics: list[str]
    data: str
    index: int


@dataclass(slots=True)
class Tx:
    hash: str
    position: int
    sender: str = ""  # the top call's ``from``: the account that signed the transaction
    to: str = ""
    calls: list[Call] = field(default_factory=list)
    status: int | None = None  # from the receipt, when it says
    logs: list[Log] | None = None  # from the receipt, when it has them
    gas_used: int = 0
    gas_price: int = 0

    @property
    def reverted(self) -> bool:
        return self.status == 0 or bool(self.calls and self.calls[0].error)


@dataclass(slots=True)
class Block:
    number: int
    txs: list[Tx]
    source: str = ""
    miner: str = ""

    def tx(self, tx_hash: str) -> Tx | None:
        want = tx_hash.lower()
        return next((tx for tx in self.txs if tx.hash == want), None)


class BadBlock(ValueError):
    """Wrong shape at ``path`` (a tuple of keys and list indexes into the JSON document)."""

    def __init__(self, path: tuple[str | int, ...], reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{dotted(path)}: {reason}")


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _pick(obj: Mapping[str, Any], snake: str, camel: str) -> Any:
    value = obj.get(snake)
    return obj.get(camel) if value is None else value


def _text(obj: Mapping[str, Any], key: str, path: tuple, *, required: bool = True, camel: str = "") -> str:
    value = _pick(obj, key, camel) if camel else obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadBlock((*path, key), "missing" if value is None else f"expected a string, got {type(value).__name__}")
    return value.lower()


def _number(obj: Mapping[str, Any], key: str, path: tuple, *, camel: str = "", default: int | None = None) -> int:
    value = _pick(obj, key, camel) if camel else obj.get(key)
    if value is None and default is not None:
        return default
    try:
        return quantity(value if value is not None else "missing")
    except ValueError:
        raise BadBlock((*path, key), "missing" if value is None else f"expected a number, got {value!r}") from None


def _mapping(value: Any, path: tuple) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadBlock(path, f"expected an object, got {_kind(value)}")
    return value


def _list(value: Any, path: tuple) -> list:
    if not isinstance(value, list):
        raise BadBlock(path, "missing" if value is None else f"expected a list, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)


def _fast_call(trace: Any) -> tuple[str, int, Call] | None:
    """The common case (a well-formed call, snake_case or camelCase), without building error paths;
    None sends the trace through :func:`_call`, which validates every field and says what is wrong."""
    try:
        action = trace["action"]
        tx_hash = trace.get("transaction_hash") or trace.get("transactionHash")
        position = trace.get("transaction_position")
        if position is None:
            position = trace.get("transactionPosition")
        address = trace.get("trace_address")
        if address is None:
            address = trace.get("traceAddress")
        call_type = action.get("callType") or action.get("call_type")
        frm, to, data, value = action["from"], action["to"], action["input"], action.get("value", "0x0")
        result = trace.get("result")
        output = result.get("output") if type(result) is dict else None
    except (TypeError, KeyError, AttributeError):
        return None
    if (trace.get("type") != "call" or type(tx_hash) is not str or type(position) is not int or type(address) is not list
            or type(call_type) is not str or type(frm) is not str or type(to) is not str or type(data) is not str
            or type(value) is not str or not value.startswith("0x") or not all(type(i) is int for i in address)):
        return None
    try:
        amount = 0 if value == "0x0" else int(value, 16)
    except ValueError:
        return None
    error = trace.get("error")
    return tx_hash.lower(), position, Call(0, tuple(address), call_type, frm.lower(), to.lower(), data,
                                           output if type(output) is str else "0x", amount,
                                           error if type(error) is str and error else None)


def _call(raw: Any, path: tuple) -> tuple[str | None, int, Call | None]:
    """(tx hash, tx position, Call) of one trace; Call is None for traces that are not calls (rewards)."""
    fast = _fast_call(raw)
    if fast is not None:
        return fast
    trace = _mapping(raw, path)
    kind = trace.get("type")
    if not isinstance(kind, str):
        raise BadBlock((*path, "type"), "expected a string such as 'call'")
    tx_hash = _pick(trace, "transaction_hash", "transactionHash")
    if kind == "reward" or tx_hash is None:
        return None, 0, None
    if not isinstance(tx_hash, str) or not tx_hash.startswith("0x"):
        raise BadBlock((*path, "transaction_hash"), "expected a 0x hash")
    position = _number(trace, "transaction_position", path, camel="transactionPosition")
    address = _list(_pick(trace, "trace_address", "traceAddress"), (*path, "trace_address"))
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in address):
        raise BadBlock((*path, "trace_address"), "expected a list of integers")
    action = _mapping(trace.get("action"), (*path, "action"))
    apath = (*path, "action")
    error = trace.get("error")
    if kind == "call":
        result = trace.get("result") or {}
        call = Call(0, tuple(address), _text(action, "callType", apath, camel="call_type"),
                    _text(action, "from", apath), _text(action, "to", apath), _text(action, "input", apath),
                    (result.get("output") or "0x").lower() if isinstance(result, Mapping) else "0x",
                    _number(action, "value", apath, default=0), error or None)
    elif kind == "create":
        result = trace.get("result") or {}
        created = result.get("address") if isinstance(result, Mapping) else None
        call = Call(0, tuple(address), "create", _text(action, "from", apath), (created or "").lower(), "0x", "0x",
                    _number(action, "value", apath, default=0), error or None)
    else:  # suicide and anything newer: keep the tree's shape, decode nothing
        call = Call(0, tuple(address), kind, (_pick(action, "address", "from") or "").lower(),
                    (_pick(action, "refund_address", "refundAddress") or "").lower(), "0x", "0x", 0, error or None)
    return tx_hash.lower(), position, call


def _link(calls: list[Call]) -> None:
    """Number the calls in tree order, find each subtree's end and propagate reverts downwards."""
    calls.sort(key=lambda c: c.trace_address)
    stack: list[Call] = []
    for i, call in enumerate(calls):
        call.index = i
        if len(call.input) >= 10:
            call.sel = call.input[2:10].lower()
        while stack and stack[-1].depth >= call.depth:
            stack.pop().end = i
        call.reverted = call.error is not None or bool(stack and stack[-1].reverted)
        stack.append(call)
    for call in stack:
        call.end = len(calls)


def _logs(raw: Any, path: tuple) -> list[Log]:
    logs = []
    for i, entry in enumerate(_list(raw, path)):
        lpath = (*path, i)
        log = _mapping(entry, lpath)
        topics = _list(log.get("topics"), (*lpath, "topics"))
        if not all(isinstance(t, str) for t in topics):
            raise BadBlock((*lpath, "topics"), "expected a list of hex strings")
        logs.append(Log(_text(log, "address", lpath), [t.lower() for t in topics], _text(log, "data", lpath),
                        _number(log, "log_index", lpath, camel="logIndex", default=i)))
    return logs


def parse_block(data: Any, source: str = "") -> Block:
    """A :class:`Block` from the decoded JSON document; :class:`BadBlock` on a wrong shape."""
    doc = _mapping(data, ())
    number = _number(doc, "block_number", (), camel="blockNumber")
    txs: dict[str, Tx] = {}
    for i, raw in enumerate(_list(doc.get("traces"), ("traces",))):
        tx_hash, position, call = _call(raw, ("traces", i))
        if call is None:
            continue
        tx = txs.get(tx_hash)
        if tx is None:
            tx = txs[tx_hash] = Tx(tx_hash, position)
        tx.calls.append(call)
    for i, raw in enumerate(_list(doc.get("receipts", []), ("receipts",))):
        path = ("receipts", i)
        receipt = _mapping(raw, path)
        tx_hash = _text(receipt, "transaction_hash", path, camel="transactionHash")
        tx = txs.get(tx_hash)
        if tx is None:  # a transaction without traces: keep it so its logs still count
            tx = txs[tx_hash] = Tx(tx_hash, _number(receipt, "transaction_index", path, camel="transactionIndex"))
        if receipt.get("status") is not None:
            tx.status = _number(receipt, "status", path)
        if receipt.get("logs") is not None:
            tx.logs = _logs(receipt["logs"], (*path, "logs"))
        tx.gas_used = _number(receipt, "gas_used", path, camel="gasUsed", default=0)
        tx.gas_price = _number(receipt, "effective_gas_price", path, camel="effectiveGasPrice", default=0)
        if not tx.to:
            tx.to = _text(receipt, "to", path, required=False)
    for tx in txs.values():
        _link(tx.calls)
        if tx.calls:
            tx.sender = tx.calls[0].sender
            tx.to = tx.calls[0].to or tx.to
    ordered = sorted(txs.values(), key=lambda t: t.position)
    miner = doc.get("miner")
    return Block(number, ordered, source, miner.lower() if isinstance(miner, str) else "")


def load_block(path: str | Path) -> Block:
    """Read and parse a block file; every failure is a one-line :class:`MevopsError`."""
    import orjson

    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise MevopsError(Problem(name, None, "", "no such file")) from None
    except IsADirectoryError:
        raise MevopsError(Problem(name, None, "", "is a directory, not a block file")) from None
    except OSError as exc:
        raise MevopsError(Problem(name, None, "", f"cannot read: {exc.strerror or exc}")) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        line = raw.count(b"\n", 0, exc.pos) + 1 if isinstance(exc.pos, int) else None
        raise MevopsError(Problem(name, line, "", f"not JSON: {exc.msg}")) from None
    try:
        return parse_block(data, name)
    except BadBlock as exc:
        line = line_of(raw.decode("utf-8", "replace"), exc.path)
        raise MevopsError(Problem(name, line, dotted(exc.path), exc.reason)) from None


def line_of(text: str, path: tuple[str | int, ...]) -> int | None:
    """The line where ``path`` (or the deepest part of it that exists) starts in JSON ``text``.

    Only runs on the error path: walks the document, skipping sibling values with the C decoder.
    """
    import json
    import re
    from json.decoder import scanstring

    space = re.compile(r"[ \t\n\r]*")
    decoder = json.JSONDecoder()
    pos = space.match(text, 0).end()
    try:
        for key in path:
            opener, closer = ("{", "}") if isinstance(key, str) else ("[", "]")
            if text[pos] != opener:
                break
            start, pos, index, found = pos, space.match(text, pos + 1).end(), 0, False
            while text[pos] != closer:
                if isinstance(key, str):
                    name, pos = scanstring(text, pos + 1)
                    pos = space.match(text, space.match(text, pos).end() + 1).end()  # past ':'
                    found = name == key
                else:
                    found = index == key
                if found:
                    break
                pos = space.match(text, decoder.raw_decode(text, pos)[1]).end()
                if text[pos] == ",":
                    pos = space.match(text, pos + 1).end()
                index += 1
            if not found:
                pos = start
                break
    except (IndexError, ValueError):
        return None
    return text.count("\n", 0, pos) + 1
