from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mevops.config.units import (
    Rate,
    parse_bytes,
    parse_fraction,
    parse_millis,
    parse_quantity,
    parse_rate,
    parse_seconds,
    parse_usd,
    parse_wei,
)


@pytest.mark.parametrize("text,wei", [
    ("500 gwei", 500 * 10**9),
    ("0.01 ETH", 10**16),
    ("1 ether", 10**18),
    ("1.5 eth", 15 * 10**17),
    ("123 wei", 123),
    ("1_000 gwei", 10**12),
    ("2 BNB", 2 * 10**18),
    (42, 42),
])
def test_wei(text, wei):
    assert parse_wei(text) == wei


def test_bare_numbers_take_the_field_unit():
    assert parse_wei(500, default_unit="gwei") == 500 * 10**9
    assert parse_wei(0.01, default_unit="ether") == 10**16
    assert parse_wei("0.01", default_unit="ether") == 10**16


@pytest.mark.parametrize("bad", ["500 gwie", "0.5 wei", "-1 ETH", "ETH", "", True, None, [1], "1e400 wei0", "1e80 ETH"])
def test_wei_refuses(bad):
    with pytest.raises(ValueError):
        parse_wei(bad)


@given(st.integers(min_value=0, max_value=10**30))
def test_gwei_text_round_trips_exactly(n):
    assert parse_wei(f"{n} gwei") == n * 10**9
    assert parse_wei(f"{n // 10**9}.{n % 10**9:09d} gwei") == n


@pytest.mark.parametrize("text,ms", [
    ("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h30m", 5_400_000), ("30d", 2_592_000_000),
    ("12", 12_000), (12, 12_000), ("0.5s", 500), ("2 weeks", 1_209_600_000),
])
def test_millis(text, ms):
    assert parse_millis(text) == ms


def test_seconds_must_be_whole():
    assert parse_seconds("30d") == 30 * 86400
    assert parse_seconds("12") == 12
    with pytest.raises(ValueError, match="whole number of seconds"):
        parse_seconds("250ms")


@pytest.mark.parametrize("bad", ["30 parsecs", "s", "1h 30", "-5s", -1, "0.0001ms", True])
def test_duration_refuses(bad):
    with pytest.raises(ValueError):
        parse_millis(bad)


@pytest.mark.parametrize("text,rate", [
    ("1000/hour", Rate(1000, 3600)), ("10/second", Rate(10, 1)), ("120/minute", Rate(120, 60)),
    ("10/5m", Rate(10, 300)), ("5/day", Rate(5, 86400)),
])
def test_rate(text, rate):
    assert parse_rate(text) == rate
    assert parse_rate(str(rate)) == rate


@pytest.mark.parametrize("bad", ["1000 per hour", "0/hour", "10/fortnight", 1000])
def test_rate_refuses(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_fraction_bounds():
    assert parse_fraction(0.005) == 0.005
    assert parse_fraction("0.5%") == 0.005
    assert parse_fraction(0) == 0
    assert parse_fraction(1, inclusive_upper=True) == 1
    for bad in (1, 1.5, -0.1, "abc", float("nan"), True):
        with pytest.raises(ValueError):
            parse_fraction(bad)


def test_usd_and_quantities():
    assert parse_usd("10000 USD") == 10_000 * 10**6
    assert parse_usd("$10,000.50") == 10_000_500_000
    assert parse_usd(250) == 250 * 10**6
    assert parse_usd("5 USDC") == 5 * 10**6
    with pytest.raises(ValueError):
        parse_usd("5 EUR")
    q = parse_quantity("50000 USDC")
    assert (q.amount, q.unit) == (Decimal(50000), "USDC")
    assert q.base_units(6) == 50_000 * 10**6
    with pytest.raises(ValueError):
        parse_quantity("1.0000001 USDC").base_units(6)
    with pytest.raises(ValueError, match="needs a unit"):
        parse_quantity("12")


def test_bytes():
    assert parse_bytes("2TiB") == 2 * 1024**4
    assert parse_bytes("100MB") == 100 * 10**6
    assert parse_bytes("500Gi") == 500 * 1024**3
    with pytest.raises(ValueError):
        parse_bytes("lots")
