"""Rebuild ``mevops/contracts/artifacts/*.json`` from the Vyper sources with the installed vyper.

    python -m mevops.contracts.compile            # rebuild what changed (or everything with --force)
    python -m mevops.contracts.compile --check    # exit 1 if an artifact is stale

Each source pins its EVM version and optimisation mode with pragmas, so the output depends
only on the source and the vyper version, both recorded in the artifact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from mevops.contracts import CONTRACTS, source, source_sha256

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
FORMATS = ["abi", "bytecode", "bytecode_runtime", "blueprint_bytecode"]


def compile_contract(name: str) -> dict[str, Any]:
    """Compile one contract into its artifact dict (needs vyper)."""
    import vyper

    out = vyper.compile_code(source(name), contract_path=f"{name}.vy", output_formats=FORMATS)
    return {
        "contract": name,
        "vyper_version": vyper.__version__,
        "source_sha256": source_sha256(name),
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "bytecode_runtime": out["bytecode_runtime"],
        "blueprint": out["blueprint_bytecode"],
    }


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1) + "\n"


def stale(name: str) -> bool:
    """True if the committed artifact was not built from the current source."""
    path = ARTIFACTS / f"{name}.json"
    if not path.is_file():
        return True
    return json.loads(path.read_text(encoding="utf-8")).get("source_sha256") != source_sha256(name)


def compile_all(names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Compile several contracts in parallel processes (vyper takes 1-4 s per contract)."""
    if len(names) <= 1:
        return {name: compile_contract(name) for name in names}
    with ProcessPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1)) as pool:
        return dict(zip(names, pool.map(compile_contract, names)))


def build(names: tuple[str, ...] = CONTRACTS, force: bool = False) -> list[str]:
    """Write the artifacts that are stale (all with ``force``); returns the names written."""
    ARTIFACTS.mkdir(exist_ok=True)
    todo = tuple(name for name in names if force or stale(name))
    for name, compiled in compile_all(todo).items():
        (ARTIFACTS / f"{name}.json").write_text(render(compiled), encoding="utf-8")
    return list(todo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mevops.contracts.compile", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"contracts (default: all of {', '.join(CONTRACTS)})")
    parser.add_argument("--force", action="store_true", help="rebuild even if the source did not change")
    parser.add_argument("--check", action="store_true", help="only report stale artifacts; exit 1 if any")
    args = parser.parse_args(argv)
    names = tuple(args.names) or CONTRACTS
    unknown = [n for n in names if n not in CONTRACTS]
    if unknown:
        parser.error(f"unknown contract(s): {', '.join(unknown)}")
    if args.check:
        bad = [n for n in names if stale(n)]
        for name in bad:
            print(f"stale: artifacts/{name}.json")
        return 1 if bad else 0
    for name in build(names, args.force):
        print(f"wrote artifacts/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
