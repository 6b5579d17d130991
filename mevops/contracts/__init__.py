"""Vyper contracts for the local devnet and for execution, with their compiled artifacts.

``artifacts/<Name>.json`` (not ``build/``, which .gitignore excludes everywhere) holds ``abi``,
``bytecode`` (init code), ``bytecode_runtime``, ``blueprint`` (ERC-5202 blueprint init code, for
contracts deployed through ``create_from_blueprint`` such as UniswapV2Pair), ``vyper_version``
and ``source_sha256``. They are committed, so using them needs neither vyper nor web3;
``python -m mevops.contracts.compile`` rebuilds them. Nothing in this package imports web3 at
import time: ``mevops.contracts.transactions`` and ``devnet`` import it inside functions.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

CONTRACTS = ("ERC20", "WETH9", "UniswapV2Pair", "UniswapV2Factory", "UniswapV2Router", "ArbExecutor")


def _package():
    return resources.files(__name__)


def source(name: str) -> str:
    """The Vyper source of contract ``name``."""
    _check(name)
    return (_package() / f"{name}.vy").read_text(encoding="utf-8")


def source_sha256(name: str) -> str:
    return hashlib.sha256(source(name).encode("utf-8")).hexdigest()


@cache
def artifact(name: str) -> dict[str, Any]:
    """The compiled artifact of contract ``name``: abi, bytecode, bytecode_runtime, blueprint, versions."""
    _check(name)
    return json.loads((_package() / "artifacts" / f"{name}.json").read_text(encoding="utf-8"))


def abi(name: str) -> list[dict[str, Any]]:
    return artifact(name)["abi"]


def _check(name: str) -> None:
    if name not in CONTRACTS:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACTS)}")
