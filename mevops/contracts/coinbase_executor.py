"""CoinbaseArbExecutor: its artifact, its build, its deployment.

The contract (``CoinbaseArbExecutor.vy``) is ArbExecutor plus a coinbase payment, for bundles.
Its artifact has the same fields and the same rendering as the others (``compile.render``):
``abi``, ``bytecode``, ``bytecode_runtime``, ``blueprint``, ``vyper_version`` and
``source_sha256``; it is committed, so using it needs neither vyper nor web3.

    python -m mevops.contracts.coinbase_executor            # rebuild the artifact if the source changed
    python -m mevops.contracts.coinbase_executor --check    # exit 1 if the artifact is stale

It is kept out of ``mevops.contracts.CONTRACTS`` (that registry belongs to the devnet market);
adding the name there would let ``python -m mevops.contracts.compile`` build it too.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

NAME = "CoinbaseArbExecutor"
HERE = Path(__file__).resolve().parent
SOURCE = HERE / f"{NAME}.vy"
ARTIFACT = HERE / "artifacts" / f"{NAME}.json"
DEPLOY_GAS = 1_000_000
PAYMENT_GAS = 45_000  # WETH.withdraw + a call to coinbase + the CoinbasePayment log, with headroom


def source_sha256() -> str:
    return hashlib.sha256(SOURCE.read_text(encoding="utf-8").encode("utf-8")).hexdigest()


@cache
def artifact() -> dict[str, Any]:
    return json.loads(ARTIFACT.read_text(encoding="utf-8"))


def stale() -> bool:
    return not ARTIFACT.is_file() or json.loads(ARTIFACT.read_text(encoding="utf-8")).get("source_sha256") != source_sha256()


def compile_artifact() -> dict[str, Any]:
    """Compile the source into its artifact dict (needs vyper), as ``compile.compile_contract`` does."""
    import vyper

    from mevops.contracts.compile import FORMATS

    out = vyper.compile_code(SOURCE.read_text(encoding="utf-8"), contract_path=f"{NAME}.vy", output_formats=FORMATS)
    return {"contract": NAME, "vyper_version": vyper.__version__, "source_sha256": source_sha256(), "abi": out["abi"],
            "bytecode": out["bytecode"], "bytecode_runtime": out["bytecode_runtime"], "blueprint": out["blueprint_bytecode"]}


def build(force: bool = False) -> bool:
    """Write the artifact if it is stale (always with ``force``); True if it was written."""
    from mevops.contracts.compile import render

    if not (force or stale()):
        return False
    ARTIFACT.write_text(render(compile_artifact()), encoding="utf-8")
    artifact.cache_clear()
    return True


def selector(fn: str, inputs: int) -> bytes:
    """The 4-byte selector of ``fn`` taking ``inputs`` arguments (``execute`` has a 6- and a 7-argument form)."""
    from eth_utils import function_signature_to_4byte_selector

    for item in artifact()["abi"]:
        if item.get("type") == "function" and item["name"] == fn and len(item["inputs"]) == inputs:
            return function_signature_to_4byte_selector(f"{fn}({','.join(i['type'] for i in item['inputs'])})")
    raise KeyError(f"{NAME} has no function {fn} with {inputs} inputs")


def deploy_code(weth: str) -> bytes:
    """Init code with the constructor argument (the WETH the payment is unwrapped from)."""
    from eth_abi import encode
    from eth_utils import to_bytes

    return to_bytes(hexstr=artifact()["bytecode"]) + encode(["address"], [weth])


async def deploy_coinbase_executor(w3: Any, owner: Any, weth: str) -> str:
    """Deploy a CoinbaseArbExecutor owned by ``owner`` (an unlocked address or a LocalAccount); wait; its address."""
    from mevops.contracts.transactions import TxSender, create_address

    tx = await TxSender.open(w3, owner)
    address = create_address(tx.address, tx.nonce)
    tx.send(None, deploy_code(weth), gas=DEPLOY_GAS, label=f"deploy {NAME}")
    await tx.settle()
    return address


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        if stale():
            print(f"stale: artifacts/{NAME}.json")
            return 1
        return 0
    if build(force="--force" in args):
        print(f"wrote artifacts/{NAME}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
