"""The V3-style pool contract (``UniswapV3StylePool.vy``): its artifact, and deploy/call helpers.

Kept apart from ``mevops.contracts.CONTRACTS`` (the market the devnet deploys); the artifact sits
with the others in ``artifacts/`` and is rebuilt with ``python -m mevops.contracts.v3pool``.
Everything web3 is imported inside functions, as in the rest of the package.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

NAME = "UniswapV3StylePool"
HERE = Path(__file__).resolve().parent
SOURCE = HERE / f"{NAME}.vy"
ARTIFACT = HERE / "artifacts" / f"{NAME}.json"

# v3-core's event signatures (the pool emits exactly these)
SWAP_EVENT = "Swap(address,address,int256,int256,uint160,uint128,int24)"
MINT_EVENT = "Mint(address,address,int24,int24,uint128,uint256,uint256)"
BURN_EVENT = "Burn(address,int24,int24,uint128,uint256,uint256)"
INITIALIZE_EVENT = "Initialize(uint160,int24)"


def source_sha256() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def compile_artifact() -> dict[str, Any]:
    import vyper

    out = vyper.compile_code(SOURCE.read_text(encoding="utf-8"), contract_path=f"{NAME}.vy",
                             output_formats=["abi", "bytecode", "bytecode_runtime"])
    return {"contract": NAME, "vyper_version": vyper.__version__, "source_sha256": source_sha256(),
            "abi": out["abi"], "bytecode": out["bytecode"], "bytecode_runtime": out["bytecode_runtime"]}


@cache
def artifact() -> dict[str, Any]:
    return json.loads(ARTIFACT.read_text(encoding="utf-8"))


def stale() -> bool:
    return not ARTIFACT.is_file() or artifact().get("source_sha256") != source_sha256()


def deploy_data(fee: int, tick_spacing: int) -> bytes:
    """Init code for a pool with ``fee`` (pips) and ``tick_spacing``."""
    from eth_abi import encode
    from eth_utils import to_bytes

    return to_bytes(hexstr=artifact()["bytecode"]) + encode(["uint256", "int256"], [fee, tick_spacing])


def call_data(fn: str, *args: Any) -> bytes:
    """Calldata for ``fn(*args)`` on the pool."""
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    (item,) = [i for i in artifact()["abi"] if i.get("type") == "function" and i["name"] == fn]
    types = [i["type"] for i in item["inputs"]]
    return function_signature_to_4byte_selector(f"{fn}({','.join(types)})") + encode(types, list(args))


def contract(w3: Any, address: str) -> Any:
    from mevops.contracts.transactions import checksum

    return w3.eth.contract(address=checksum(address), abi=artifact()["abi"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        print("stale" if stale() else "up to date")
        return 1 if stale() else 0
    ARTIFACT.write_text(json.dumps(compile_artifact(), indent=1) + "\n", encoding="utf-8")
    artifact.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
