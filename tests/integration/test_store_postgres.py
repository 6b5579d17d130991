"""The store suite of ``tests/unit/test_store.py`` against a real, throwaway PostgreSQL cluster.

The cluster is made with ``initdb`` and started with ``pg_ctl`` on a free port in a temp dir,
one fresh database per test (``tests/postgres.py``, shared with the signer-lease tests). Skips,
with the reason, when the binaries or psycopg are missing.
"""

from __future__ import annotations

import pytest

from tests.unit.test_store import *


@pytest.fixture
def store_url(postgres_url: str) -> str:
    """Overrides the suite's SQLite URL: a fresh database per test (``tests/postgres.py``)."""
    return postgres_url


def test_big_amounts_are_numeric_78_on_postgresql(store):
    import sqlalchemy as sa

    columns = {c["name"]: c["type"] for c in sa.inspect(store.engine).get_columns("trades")}
    assert isinstance(columns["amount_in"], sa.Numeric) and columns["amount_in"].precision == 78
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT (2::numeric ^ 256 - 1)::numeric(78, 0)").scalar() == 2**256 - 1
