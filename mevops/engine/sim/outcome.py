"""pyrevm's errors read as simulation outcomes, worded like a node's ``eth_call`` errors.

pyrevm raises ``RuntimeError`` for every unsuccessful call, with revm's Debug text:
``Revert { gas_used: 187029, output: 0x08c379a0… }`` or ``Halt { reason: OutOfGas(Basic), … }``.
Those two are answers (the call fails); anything else (a database or validation error) is not,
and is raised for the caller to fall back on ``eth_call``.
"""

from __future__ import annotations

import re

ERROR_SELECTOR = bytes.fromhex("08c379a0")   # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")   # Panic(uint256)
_REVERT = re.compile(r"^Revert \{ gas_used: \d+, output: 0x([0-9a-fA-F]*) \}$")
_HALT = re.compile(r"^Halt \{ reason: (\w+)")


def revert_reason(output: bytes) -> str:
    """``execution reverted[: reason]`` as nodes word it."""
    if output[:4] == ERROR_SELECTOR and len(output) >= 68:
        length = int.from_bytes(output[36:68], "big")
        text = output[68:68 + length].decode("utf-8", "replace")
        return f"execution reverted: {text}"
    if output[:4] == PANIC_SELECTOR and len(output) >= 36:
        return f"execution reverted: panic code {int.from_bytes(output[4:36], 'big'):#x}"
    return "execution reverted" + (f": 0x{output.hex()}" if output else "")


def call_outcome(message: str) -> tuple[bool, str, None]:
    """(False, reason, None) for a revert or a halt; raises ValueError for anything else."""
    if match := _REVERT.match(message):
        return False, f"simulation reverted: {revert_reason(bytes.fromhex(match.group(1)))}", None
    if match := _HALT.match(message):
        return False, f"simulation halted: {match.group(1)}", None
    raise ValueError(f"not a call outcome: {message[:200]}")
