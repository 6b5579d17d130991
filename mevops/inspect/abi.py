"""Just enough ABI decoding for the inspector: 32-byte words of hex calldata, logs and outputs.

Everything stays in hex strings (``0x``-prefixed, any case) and Python ints; a word that is not
there decodes to ``None`` so a short or malformed call is skipped, never a crash.
"""

from __future__ import annotations

ETH = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"  # the usual stand-in address for ether
WORD = 64  # hex characters in a 32-byte word


def hex_body(data: str) -> str:
    """The hex digits after ``0x``, lowercase."""
    return (data[2:] if data[:2] in ("0x", "0X") else data).lower()


def selector(calldata: str) -> str:
    """The 4-byte function selector as 8 lowercase hex digits ('' when there is none)."""
    body = calldata[2:10] if calldata[:2] in ("0x", "0X") else calldata[:8]
    return body.lower() if len(body) == 8 else ""


def args(calldata: str) -> str:
    """The argument words of a call (the calldata after its selector), lowercase hex."""
    return hex_body(calldata)[8:]


def uint(words: str, index: int) -> int | None:
    """Word ``index`` of ``words`` as an unsigned integer."""
    start = index * WORD
    chunk = words[start:start + WORD]
    if len(chunk) != WORD:
        return None
    try:
        return int(chunk, 16)
    except ValueError:
        return None


def int256(words: str, index: int) -> int | None:
    """Word ``index`` as a two's-complement signed integer."""
    value = uint(words, index)
    if value is None:
        return None
    return value - (1 << 256) if value >> 255 else value


def address(words: str, index: int) -> str | None:
    """Word ``index`` as a lowercase 0x address: its low 20 bytes.

    The high 12 bytes are ignored as the EVM does for old contracts (WETH9's compiler masks a dirty
    address word; MEV bots save gas by packing other data there and the call still succeeds).
    """
    start = index * WORD
    chunk = words[start:start + WORD]
    return "0x" + chunk[24:] if len(chunk) == WORD else None


def topic_address(topic: str) -> str | None:
    """An indexed address topic as a lowercase 0x address."""
    return address(hex_body(topic), 0)


def quantity(value: object) -> int:
    """A JSON-RPC quantity (``"0x1a"``), a decimal string or an int, as an int (0 when absent).

    Anything else raises ``ValueError``, like a malformed string does: callers report both alike.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    raise ValueError(f"not a quantity: {value!r}")
