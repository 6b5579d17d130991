"""keccak256 and EIP-55 addresses without eth-utils (whose import alone can take a second):
a relay decoding transactions and a searcher signing headers need nothing more."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _backend() -> Any:
    from mevops.engine.chain.eip1559 import _keccak

    return _keccak()


def keccak(data: bytes) -> bytes:
    return _backend()(data)


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    lower = raw.hex()
    digest = keccak(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))
