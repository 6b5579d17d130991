"""Sign EIP-1559 transactions on the hot path: RLP, keccak and libsecp256k1 (coincurve), nothing else.

eth-account builds a typed-transaction object and validates and serialises it through several
layers: milliseconds per signature (tens of them when eth-keys has no coincurve). The bytes here
are the same (RFC 6979 nonces and low-s signatures on both sides; tests/unit/test_eip1559.py
compares them); transactions with an access list are left to eth-account.
"""

from __future__ import annotations

from typing import Any


def _rlp_bytes(data: bytes) -> bytes:
    if len(data) == 1 and data[0] < 0x80:
        return data
    return _rlp_length(len(data), 0x80) + data


def _rlp_int(value: int) -> bytes:
    if value < 0:
        raise ValueError("RLP integers are unsigned")
    return _rlp_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _rlp_length(length: int, offset: int) -> bytes:
    if length <= 55:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


def _rlp_list(items: list[bytes]) -> bytes:
    payload = b"".join(items)
    return _rlp_length(len(payload), 0xC0) + payload


def _keccak() -> Any:
    try:
        from Crypto.Hash import keccak as pycryptodome_keccak

        return lambda data: pycryptodome_keccak.new(digest_bits=256, data=data).digest()
    except ImportError:  # pragma: no cover - eth-hash's own backend
        from eth_utils import keccak

        return keccak


class Eip1559Signer:
    """Signs type-2 transaction dicts (eth-account's keys) with one private key; never shows it."""

    __slots__ = ("_keccak", "_key")

    def __init__(self, private_key: bytes) -> None:
        import coincurve

        self._key = coincurve.PrivateKey(private_key)
        self._keccak = _keccak()

    def __repr__(self) -> str:
        return "Eip1559Signer(<key not shown>)"

    @staticmethod
    def supports(tx: dict[str, Any]) -> bool:
        return tx.get("type") in (2, "0x2") and not tx.get("accessList") and isinstance(tx.get("to"), str)

    def sign(self, tx: dict[str, Any]) -> tuple[bytes, str]:
        """(raw signed transaction, its hash) for ``tx`` (type 2, no access list)."""
        data = tx.get("data") or b""
        if isinstance(data, str):
            data = bytes.fromhex(data[2:] if data[:2] in ("0x", "0X") else data)
        fields = [_rlp_int(tx["chainId"]), _rlp_int(tx["nonce"]), _rlp_int(tx["maxPriorityFeePerGas"]),
                  _rlp_int(tx["maxFeePerGas"]), _rlp_int(tx["gas"]), _rlp_bytes(bytes.fromhex(tx["to"][2:])),
                  _rlp_int(tx.get("value", 0)), _rlp_bytes(bytes(data)), _rlp_list([])]
        signature = self._key.sign_recoverable(self._keccak(b"\x02" + _rlp_list(fields)), hasher=None)
        r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
        raw = b"\x02" + _rlp_list(fields + [_rlp_int(v), _rlp_int(r), _rlp_int(s)])
        return raw, "0x" + self._keccak(raw).hex()


def fast_signer(private_key: bytes) -> Eip1559Signer | None:
    """An ``Eip1559Signer``, or None when coincurve is not installed (eth-account signs then)."""
    try:
        return Eip1559Signer(private_key)
    except ImportError:
        return None
