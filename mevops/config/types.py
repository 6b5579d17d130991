"""Pydantic field types that parse units at the edge (see ``units``)."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from mevops.config import units


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, populate_by_name=True)


def _wrap(fn: Any) -> Any:
    def check(value: Any) -> Any:
        return fn(value)

    return check


Wei = Annotated[int, BeforeValidator(_wrap(units.parse_wei))]
"""An amount of ether in wei; bare numbers are wei."""
GasPrice = Annotated[int, BeforeValidator(_wrap(partial(units.parse_wei, default_unit="gwei")))]
"""A gas price in wei; bare numbers are gwei (as operators write them)."""
EthAmount = Annotated[int, BeforeValidator(_wrap(partial(units.parse_wei, default_unit="ether")))]
"""An amount of ether in wei; bare numbers are whole ETH."""
Usd = Annotated[int, BeforeValidator(_wrap(units.parse_usd))]
"""Dollars, as integer micro-dollars; bare numbers are dollars."""
Seconds = Annotated[int, BeforeValidator(_wrap(units.parse_seconds))]
Millis = Annotated[int, BeforeValidator(_wrap(units.parse_millis))]
Bytes = Annotated[int, BeforeValidator(_wrap(units.parse_bytes))]
RateT = Annotated[units.Rate, BeforeValidator(_wrap(units.parse_rate)), PlainSerializer(str, return_type=str)]
QuantityT = Annotated[units.Quantity, BeforeValidator(_wrap(units.parse_quantity)), PlainSerializer(str, return_type=str)]
Fraction = Annotated[float, BeforeValidator(_wrap(units.parse_fraction))]
"""A fraction in [0, 1)."""
FractionInclusive = Annotated[float, BeforeValidator(_wrap(partial(units.parse_fraction, inclusive_upper=True)))]
"""A fraction in [0, 1]."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_name(value: str) -> str:
    """A name that is used as a path component: lowercase, digits, '-' and '_', no separators."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid name (lowercase letters, digits, '-' and '_'; "
            "starts with a letter or digit; at most 63 characters; no '/', '..' or spaces)"
        )
    return value


Name = Annotated[str, AfterValidator(check_name)]
"""A safe name: cannot escape the directory it names a file in."""


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


PositiveInt = Annotated[int, AfterValidator(_positive)]
PositiveWei = Annotated[Wei, AfterValidator(_positive)]
PositiveGasPrice = Annotated[GasPrice, AfterValidator(_positive)]
PositiveUsd = Annotated[Usd, AfterValidator(_positive)]
PositiveSeconds = Annotated[Seconds, AfterValidator(_positive)]
PositiveMillis = Annotated[Millis, AfterValidator(_positive)]


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("port must be between 1 and 65535")
    return value


Port = Annotated[int, AfterValidator(_port)]
