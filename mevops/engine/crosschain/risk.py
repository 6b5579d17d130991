"""Per-chain limits for cross-chain legs: position size (quote units) and gas price (wei).

Read from the ``chain_limits`` section of ``mev/config/risk-limits.yml`` (read-only) or built
directly. A chain whose gas price is above its cap is not traded on; a leg's value is capped by
the chain's position size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"wei": 1, "gwei": 10**9, "eth": 10**18, "ether": 10**18}


@dataclass(frozen=True)
class ChainRisk:
    max_position: int | None = None        # per leg, in quote-asset units
    max_gas_price: int | None = None       # wei (base fee + tip)
    max_priority_fee: int | None = None    # wei

    def gas_ok(self, gas_price: int, tip: int) -> bool:
        return ((self.max_gas_price is None or gas_price <= self.max_gas_price)
                and (self.max_priority_fee is None or tip <= self.max_priority_fee))


def _wei(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9_]+)\s*([A-Za-z]*)\s*", str(text))
    if not m:
        raise ValueError(f"not a gas amount: {text!r}")
    return int(m.group(1).replace("_", "")) * _UNITS[(m.group(2) or "wei").lower()]


def _usd(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9_]+)\s*(USD)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ValueError(f"not a USD amount: {text!r}")
    return int(m.group(1).replace("_", ""))


def chain_risk_from_yaml(path: str | Path, chains: dict[str, str], quote_units_per_usd: int) -> dict[str, ChainRisk]:
    """``chains`` maps our chain tags to the config's chain names (e.g. {"31337": "ethereum"})."""
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    limits = data.get("chain_limits") or {}
    out = {}
    for tag, name in chains.items():
        spec = limits.get(name)
        if spec is None:
            raise KeyError(f"no chain_limits for {name!r} in {path}")
        out[tag] = ChainRisk(
            max_position=_usd(spec["max_position_size"]) * quote_units_per_usd if "max_position_size" in spec else None,
            max_gas_price=_wei(spec["max_gas_price"]) if "max_gas_price" in spec else None,
            max_priority_fee=_wei(spec["max_priority_fee"]) if "max_priority_fee" in spec else None)
    return out
