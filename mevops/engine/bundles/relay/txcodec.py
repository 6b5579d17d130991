"""Decode signed transactions (legacy, EIP-2930, EIP-1559) and recover their senders.

RLP, keccak and libsecp256k1 (coincurve) only: eth-account's import alone takes seconds on a
loaded machine, and a relay answering its first bundle must not stall its event loop for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mevops.engine.bundles.hashing import checksum_address, keccak
from mevops.engine.bundles.requests import BadParams

Item = bytes | list["Item"]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class RawTx:
    """A signed transaction, decoded once: who sends what, at which nonce and fees."""

    raw: bytes
    hash: str
    sender: str
    nonce: int
    to: str | None
    value: int
    data: bytes
    gas: int
    chain_id: int | None
    max_fee: int            # gasPrice for legacy and access-list transactions
    max_priority: int
    type: int
    access_list: tuple = ()

    def tip(self, base_fee: int) -> int:
        """Priority fee per gas paid at ``base_fee`` (EIP-1559)."""
        return max(0, min(self.max_priority, self.max_fee - base_fee))

    def as_call(self) -> dict[str, Any]:
        """The transaction as an ``eth_simulateV1`` call object."""
        call: dict[str, Any] = {"from": self.sender, "value": hex(self.value), "input": "0x" + self.data.hex(),
                                "gas": hex(self.gas), "nonce": hex(self.nonce)}
        if self.to is not None:
            call["to"] = self.to
        if self.type == 2:
            call.update(maxFeePerGas=hex(self.max_fee), maxPriorityFeePerGas=hex(self.max_priority))
        else:
            call["gasPrice"] = hex(self.max_fee)
        if self.access_list:
            call["accessList"] = [{"address": a, "storageKeys": list(keys)} for a, keys in self.access_list]
        return call


# -- RLP ------------------------------------------------------------------------------------------------
def rlp_decode(data: bytes) -> Item:
    item, end = _item(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the RLP item")
    return item


def _item(data: bytes, at: int) -> tuple[Item, int]:
    if at >= len(data):
        raise ValueError("truncated RLP")
    lead = data[at]
    if lead < 0x80:
        return data[at:at + 1], at + 1
    if lead < 0xB8:
        return _take(data, at + 1, lead - 0x80), at + 1 + lead - 0x80
    if lead < 0xC0:
        size, start = _long(data, at, lead - 0xB7)
        return _take(data, start, size), start + size
    if lead < 0xF8:
        return _list(data, at + 1, lead - 0xC0)
    size, start = _long(data, at, lead - 0xF7)
    return _list(data, start, size)


def _take(data: bytes, start: int, size: int) -> bytes:
    if start + size > len(data):
        raise ValueError("truncated RLP")
    return data[start:start + size]


def _long(data: bytes, at: int, width: int) -> tuple[int, int]:
    return int.from_bytes(_take(data, at + 1, width), "big"), at + 1 + width


def _list(data: bytes, start: int, size: int) -> tuple[list[Item], int]:
    end, items, at = start + size, [], start
    if end > len(data):
        raise ValueError("truncated RLP")
    while at < end:
        item, at = _item(data, at)
        items.append(item)
    if at != end:
        raise ValueError("RLP list length mismatch")
    return items, end


def rlp_encode(item: Item) -> bytes:
    if isinstance(item, bytes):
        return item if len(item) == 1 and item[0] < 0x80 else _length(len(item), 0x80) + item
    payload = b"".join(rlp_encode(i) for i in item)
    return _length(len(payload), 0xC0) + payload


def _length(length: int, offset: int) -> bytes:
    if length <= 55:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


# -- transactions ---------------------------------------------------------------------------------------
def _int(item: Item) -> int:
    if not isinstance(item, bytes):
        raise TypeError("expected an integer, got a list")
    return int.from_bytes(item, "big")


def _recover(sighash: bytes, recid: int, r: int, s: int) -> str:
    import coincurve

    if recid not in (0, 1) or not (0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2):
        raise ValueError("invalid signature values")
    public = coincurve.PublicKey.from_signature_and_message(r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recid]),
                                                            sighash, hasher=None)
    return checksum_address(keccak(public.format(compressed=False)[1:])[12:])


def decode_tx(raw: bytes, key: str = "txs") -> RawTx:
    """Decode a signed legacy, EIP-2930 or EIP-1559 transaction; BadParams(key, reason) if it is not one."""
    if not raw:
        raise BadParams(key, "empty transaction")
    kind = raw[0] if raw[0] < 0xC0 else 0
    if kind not in (0, 1, 2):
        raise BadParams(key, f"transaction type {kind} is not supported (legacy, 1 and 2 are)")
    try:
        fields = rlp_decode(raw[1:] if kind else raw)
        if not isinstance(fields, list) or len(fields) != {0: 9, 1: 11, 2: 12}[kind]:
            raise ValueError("wrong number of fields")
        return _typed(raw, kind, fields)
    except (ValueError, TypeError) as exc:
        raise BadParams(key, f"not a signed transaction ({exc})") from None


def _typed(raw: bytes, kind: int, f: list[Item]) -> RawTx:
    if kind == 0:
        nonce, price, gas, to, value, data, v, r, s = f
        v_ = _int(v)
        chain_id = None if v_ in (27, 28) else (v_ - 35) // 2
        unsigned = rlp_encode([nonce, price, gas, to, value, data] + ([] if chain_id is None
                              else [_int_bytes(chain_id), b"", b""]))
        recid = v_ - 27 if chain_id is None else v_ - 35 - 2 * chain_id
        max_fee = max_priority = _int(price)
        access: Item = []
    else:
        if kind == 1:
            chain, nonce, price, gas, to, value, data, access, y, r, s = f
            max_fee = max_priority = _int(price)
        else:
            chain, nonce, tip, fee, gas, to, value, data, access, y, r, s = f
            max_fee, max_priority = _int(fee), _int(tip)
        chain_id, recid = _int(chain), _int(y)
        unsigned = bytes([kind]) + rlp_encode(f[:-3])
    if not isinstance(to, bytes) or len(to) not in (0, 20) or not isinstance(data, bytes):
        raise ValueError("bad to or data field")
    sender = _recover(keccak(unsigned), recid, _int(r), _int(s))
    return RawTx(raw, "0x" + keccak(raw).hex(), sender, _int(nonce), checksum_address(to) if to else None, _int(value),
                 data, _int(gas), chain_id, max_fee, max_priority, kind, _access_list(access))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _access_list(items: Item) -> tuple:
    if not isinstance(items, list):
        raise TypeError("bad access list")
    out = []
    for entry in items:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], bytes) or not isinstance(entry[1], list):
            raise TypeError("bad access list entry")
        out.append((checksum_address(entry[0]), tuple("0x" + k.hex() for k in entry[1] if isinstance(k, bytes))))
    return tuple(out)
