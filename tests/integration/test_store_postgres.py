"""The store suite of ``tests/unit/test_store.py`` against a real, throwaway PostgreSQL cluster.

The cluster is made with ``initdb`` and started with ``pg_ctl`` on a free port in a temp dir,
one fresh database per test. PostgreSQL refuses to run as root: as root the server runs as the
``postgres`` system user if there is one, else ``nobody`` (``subprocess`` switches user, no sudo).
Skips, with the reason, when the binaries or psycopg are missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.test_store import *


@dataclass
class Cluster:
    port: int
    user: str = "mevops"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_account() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves unless we are root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _run_as(account: pwd.struct_passwd, argv: list[str], **kw) -> subprocess.CompletedProcess[str]:
    switch = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": "/tmp"}
    return subprocess.run(argv, check=False, capture_output=True, text=True, env=env, timeout=120, **switch, **kw)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    for tool in ("initdb", "pg_ctl", "postgres"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH (install the PostgreSQL server binaries)")
    account = _server_account()
    if account is None:
        pytest.skip("running as root and there is neither a 'postgres' nor a 'nobody' user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="mevops-pg-"))
    os.chown(base, account.pw_uid, account.pw_gid)
    cluster = Cluster(_free_port())
    data, log = base / "data", base / "server.log"
    init = _run_as(account, ["initdb", "-D", str(data), "-A", "trust", "-U", cluster.user, "-E", "UTF8",
                             "--no-sync", "--no-instructions"])
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed as {account.pw_name}: {init.stderr.strip()[-300:]}")
    options = f"-p {cluster.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = _run_as(account, ["pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"])
    if start.returncode != 0:
        detail = log.read_text()[-500:] if log.exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"the PostgreSQL server did not start: {detail}")
    try:
        yield cluster
    finally:
        _run_as(account, ["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def store_url(postgres_cluster: Cluster) -> Iterator[str]:
    """Overrides the suite's SQLite URL: a fresh database per test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with postgres_cluster.admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_cluster.url(name)
    with postgres_cluster.admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_big_amounts_are_numeric_78_on_postgresql(store):
    import sqlalchemy as sa

    columns = {c["name"]: c["type"] for c in sa.inspect(store.engine).get_columns("trades")}
    assert isinstance(columns["amount_in"], sa.Numeric) and columns["amount_in"].precision == 78
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT (2::numeric ^ 256 - 1)::numeric(78, 0)").scalar() == 2**256 - 1
