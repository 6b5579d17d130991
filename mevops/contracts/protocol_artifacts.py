"""Artifacts and ABI encoding for the flash-loan and lending contracts (FlashLoanPool, FlashVault, FlashArbExecutor,
LendingMarket, FlashLiquidator).

They live next to the DEX contracts (``<Name>.vy``, ``artifacts/<Name>.json``, same artifact format as
``mevops.contracts.compile``) but are registered here, so the core ``CONTRACTS`` tuple is untouched.

    python -m mevops.contracts.protocol_artifacts [--force]   # rebuild stale artifacts
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROTOCOL_CONTRACTS = ("FlashLoanPool", "FlashVault", "FlashArbExecutor", "LendingMarket", "FlashLiquidator")


def _check(name: str) -> None:
    if name not in PROTOCOL_CONTRACTS:
        raise KeyError(f"unknown protocol contract {name!r}; known: {', '.join(PROTOCOL_CONTRACTS)}")


def source(name: str) -> str:
    _check(name)
    return (HERE / f"{name}.vy").read_text(encoding="utf-8")


def source_sha256(name: str) -> str:
    return hashlib.sha256(source(name).encode("utf-8")).hexdigest()


@cache
def artifact(name: str) -> dict[str, Any]:
    _check(name)
    return json.loads((HERE / "artifacts" / f"{name}.json").read_text(encoding="utf-8"))


def abi(name: str) -> list[dict[str, Any]]:
    return artifact(name)["abi"]


@cache
def _function(name: str, fn: str) -> tuple[bytes, tuple[str, ...]]:
    from eth_utils import function_signature_to_4byte_selector

    for item in abi(name):
        if item.get("type") == "function" and item["name"] == fn:
            types = tuple(_abi_type(i) for i in item["inputs"])
            return function_signature_to_4byte_selector(f"{fn}({','.join(types)})"), types
    raise KeyError(f"{name} has no function {fn!r}")


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def encode_call(name: str, fn: str, *args: Any) -> bytes:
    """Calldata for ``name.fn(*args)``."""
    from eth_abi import encode

    selector, types = _function(name, fn)
    return selector + encode(list(types), list(args))


def encode_deploy(name: str, *args: Any) -> bytes:
    from eth_abi import encode
    from eth_utils import to_bytes

    art = artifact(name)
    ctor = next((i for i in art["abi"] if i.get("type") == "constructor"), {"inputs": []})
    return to_bytes(hexstr=art["bytecode"]) + encode([_abi_type(i) for i in ctor["inputs"]], list(args))


def stale(name: str) -> bool:
    path = HERE / "artifacts" / f"{name}.json"
    return not path.is_file() or json.loads(path.read_text(encoding="utf-8")).get("source_sha256") != source_sha256(name)


def build(force: bool = False) -> list[str]:
    """Compile the stale protocol contracts (all with ``force``) into artifacts; needs vyper."""
    import vyper

    written = []
    for name in PROTOCOL_CONTRACTS:
        if not (HERE / f"{name}.vy").is_file() or not (force or stale(name)):
            continue
        out = vyper.compile_code(source(name), contract_path=f"{name}.vy",
                                 output_formats=["abi", "bytecode", "bytecode_runtime", "blueprint_bytecode"])
        art = {"contract": name, "vyper_version": vyper.__version__, "source_sha256": source_sha256(name),
               "abi": out["abi"], "bytecode": out["bytecode"], "bytecode_runtime": out["bytecode_runtime"],
               "blueprint": out["blueprint_bytecode"]}
        (HERE / "artifacts" / f"{name}.json").write_text(json.dumps(art, indent=1) + "\n", encoding="utf-8")
        artifact.cache_clear()
        written.append(name)
    return written


if __name__ == "__main__":
    for written_name in build("--force" in sys.argv[1:]):
        print(f"wrote artifacts/{written_name}.json")
