"""Column types that keep integers and times exact on SQLite and PostgreSQL alike.

``BigInt``: token amounts, gas prices and profits are Python ints of up to 256 bits (signed:
profits can be negative). SQLite's INTEGER and PostgreSQL's BIGINT hold 64 bits, so PostgreSQL
stores NUMERIC(78, 0) (78 digits hold ±(2**256 - 1)) and SQLite stores the decimal text. Either
way the value comes back as the same ``int``. SQL arithmetic and ordering on these columns is
not portable (text on SQLite): aggregate them in Python or in ``pnl_daily``.

``UtcDateTime``: timezone-aware UTC datetimes in, the same out; TIMESTAMP WITH TIME ZONE on
PostgreSQL, ISO text without offset (always UTC) on SQLite, which sorts correctly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

INT256_LIMIT = 2**256  # values must satisfy -(2**256) < value < 2**256


class BigInt(TypeDecorator[int]):
    """``unbounded=True`` (sums, e.g. ``pnl_daily``): NUMERIC without precision on PostgreSQL, no range check."""

    impl = String(80)
    cache_ok = True

    def __init__(self, unbounded: bool = False) -> None:
        super().__init__()
        self.unbounded = unbounded

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(None if self.unbounded else 78, None if self.unbounded else 0,
                                                   asdecimal=True))
        return dialect.type_descriptor(Text() if self.unbounded else String(80))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an int, got {type(value).__name__}")
        if not self.unbounded and not -INT256_LIMIT < value < INT256_LIMIT:
            raise ValueError(f"{value} does not fit in 256 bits")
        return Decimal(value) if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise ValueError(f"stored amount {value} is not an integer")
            return int(value)
        return int(value)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("times are stored as timezone-aware datetimes (UTC)")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
