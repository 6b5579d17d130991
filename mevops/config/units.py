"""Units parsed once at the edge: amounts to integer wei, durations to integer seconds or
milliseconds, rates to (count, period), fractions to bounded floats.

Each ``parse_*`` raises ValueError with a message fit for a user; the pydantic types in
``mevops.config.types`` wrap them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

# Ether denominations, in wei.
ETH_UNITS: dict[str, int] = {
    "wei": 1,
    "kwei": 10**3,
    "mwei": 10**6,
    "gwei": 10**9,
    "szabo": 10**12,
    "finney": 10**15,
    "ether": 10**18,
    "eth": 10**18,
}
# Native currencies of the catalog's chains that count in 18-decimal units like ether.
NATIVE_18 = {"matic", "pol", "bnb", "avax"}

_NUMBER = r"[0-9][0-9_,]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?"
_AMOUNT = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-z$][A-Za-z0-9.$]*)?\s*$")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _split_amount(value: object, what: str) -> tuple[Decimal, str | None]:
    if isinstance(value, bool):
        raise ValueError(f"expected {what}, got a boolean")
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, float):
        return Decimal(repr(value)), None
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("$"):
        return _decimal(text[1:].strip()), "usd"
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(f"{value!r} is not {what}")
    return _decimal(m["num"]), (m["unit"].lower() if m["unit"] else None)


UINT256_MAX = 2**256 - 1
_EXACT = Context(prec=200, traps=[InvalidOperation])


def _exact(amount: Decimal, scale: int, value: object) -> int:
    scaled = _EXACT.multiply(amount, Decimal(scale))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} is finer than the smallest unit")
    if scaled < 0:
        raise ValueError(f"{value!r} is negative")
    if scaled > UINT256_MAX:
        raise ValueError(f"{value!r} is larger than a uint256")
    return int(scaled)


def parse_wei(value: object, default_unit: str = "wei") -> int:
    """``"500 gwei"`` → 500_000_000_000; ``"0.01 ETH"`` → 10**16; bare numbers use ``default_unit``."""
    amount, unit = _split_amount(value, "an amount of ether such as '500 gwei' or '0.01 ETH'")
    unit = unit or default_unit
    if unit in NATIVE_18:
        unit = "ether"
    if unit not in ETH_UNITS:
        raise ValueError(f"unknown unit {unit!r} (use wei, gwei or ETH)")
    return _exact(amount, ETH_UNITS[unit], value)


USD_SCALE = 10**6  # USD amounts are kept as integer micro-dollars (USDC/USDT precision)
USD_UNITS = {"usd", "usdc", "usdt", "dai"}


def parse_usd(value: object) -> int:
    """``"10000 USD"``, ``"$10,000"`` or ``10000`` → integer micro-dollars."""
    amount, unit = _split_amount(value, "a dollar amount such as '10000 USD'")
    if unit is not None and unit not in USD_UNITS:
        raise ValueError(f"unknown unit {unit!r} (use USD)")
    return _exact(amount, USD_SCALE, value)


@dataclass(frozen=True)
class Quantity:
    """An amount of a named asset, exact; converted to base units once decimals are known."""

    amount: Decimal
    unit: str

    def base_units(self, decimals: int) -> int:
        return _exact(self.amount, 10**decimals, f"{self.amount} {self.unit}")

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.unit}"


def parse_quantity(value: object, default_unit: str | None = None) -> Quantity:
    """``"50000 USDC"`` → Quantity(50000, 'USDC'). The unit keeps its case (token symbols)."""
    amount, _ = _split_amount(value, "an amount such as '50000 USDC'")
    unit = None
    if isinstance(value, str):
        text = value.strip()
        unit = "USD" if text.startswith("$") else (_AMOUNT.match(text)["unit"] or None)  # type: ignore[index]
    unit = unit or default_unit
    if unit is None:
        raise ValueError(f"{value!r} needs a unit, e.g. '{value} USDC'")
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    return Quantity(amount, unit.upper() if unit.lower() in USD_UNITS | set(ETH_UNITS) | NATIVE_18 else unit)


_DURATION_MS = {
    "ms": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hr": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
    "w": 604_800_000, "week": 604_800_000, "weeks": 604_800_000,
}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(" + "|".join(sorted(_DURATION_MS, key=len, reverse=True)) + ")")


def parse_millis(value: object) -> int:
    """``"250ms"`` → 250, ``"30s"`` → 30000, ``"1h30m"`` → 5400000; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s', got a boolean")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"duration {value!r} is negative")
        ms = Decimal(repr(value)) * 1000
        if ms != ms.to_integral_value():
            raise ValueError(f"duration {value!r} is finer than a millisecond")
        return int(ms)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as '30s', got {type(value).__name__}")
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return parse_millis(float(text) if "." in text else int(text))
    pos, total = 0, Decimal(0)
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += Decimal(m[1]) * _DURATION_MS[m[2]]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value!r} is not a duration (use e.g. 250ms, 30s, 5m, 1h, 30d)")
    if total != total.to_integral_value():
        raise ValueError(f"duration {value!r} is finer than a millisecond")
    return int(total)


def parse_seconds(value: object) -> int:
    """A duration in whole seconds: ``"30s"`` → 30, ``"30d"`` → 2592000, ``"12"`` → 12."""
    ms = parse_millis(value)
    if ms % 1000:
        raise ValueError(f"{value!r} must be a whole number of seconds")
    return ms // 1000


@dataclass(frozen=True)
class Rate:
    """``count`` events per ``period`` seconds."""

    count: int
    period: int

    def __str__(self) -> str:
        names = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
        return f"{self.count}/{names.get(self.period, f'{self.period}s')}"


_RATE = re.compile(r"^\s*([0-9][0-9_,]*)\s*/\s*(.+?)\s*$")
_RATE_PERIODS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}


def parse_rate(value: object) -> Rate:
    """``"1000/hour"`` → Rate(1000, 3600); ``"10/5m"`` → Rate(10, 300)."""
    if isinstance(value, Rate):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a rate such as '1000/hour', got {type(value).__name__}")
    m = _RATE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a rate (use e.g. 1000/hour, 10/second)")
    count = int(m[1].replace("_", "").replace(",", ""))
    unit = m[2].lower()
    if unit in _RATE_PERIODS:
        period = _RATE_PERIODS[unit]
    else:
        try:
            period = parse_seconds(unit)
        except ValueError:
            raise ValueError(f"{value!r} has an unknown period {m[2]!r}") from None
    if count <= 0 or period <= 0:
        raise ValueError(f"rate {value!r} must be positive")
    return Rate(count, period)


def parse_fraction(value: object, *, upper: float = 1.0, inclusive_upper: bool = False) -> float:
    """``0.005`` or ``"0.5%"`` → 0.005, bounded to [0, upper) (or [0, upper])."""
    if isinstance(value, bool):
        raise ValueError("expected a fraction such as 0.005 or '0.5%', got a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            result = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a fraction (use e.g. 0.005 or '0.5%')") from None
    elif isinstance(value, (int, float)):
        result = float(value)
    else:
        raise ValueError(f"expected a fraction, got {type(value).__name__}")
    if result != result or result < 0 or result > upper or (result == upper and not inclusive_upper):
        bound = "]" if inclusive_upper else ")"
        raise ValueError(f"{value!r} is outside [0, {upper:g}{bound}")
    return result


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_POW = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_bytes(value: object) -> int:
    """``"100MB"`` → 100_000_000, ``"2Ti"``/``"2TiB"`` → 2 * 1024**4; a bare number is bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as '100MB', got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("size is negative")
        return value
    if not isinstance(value, str) or not (m := _SIZE.match(value)):
        raise ValueError(f"{value!r} is not a size (use e.g. 100MB, 2TiB)")
    unit = (m[2] or "").lower()
    base = 1024 if "i" in unit else 1000
    return int(Decimal(m[1]) * base ** _SIZE_POW[unit[:1] if unit else ""])
