"""A real, throwaway PostgreSQL cluster for tests and benchmarks.

``throwaway_cluster()`` makes a cluster with ``initdb`` and starts it with ``pg_ctl`` on a free port
in a temp dir; ``fresh_database(cluster)`` makes an empty database and drops it afterwards.
PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` system user if there
is one, else ``nobody`` (``subprocess`` switches user, no sudo). When the binaries, psycopg or a
user to run the server as are missing, ``ClusterUnavailable`` says why (the fixtures skip with it).

The pytest fixtures ``postgres_cluster`` (session) and ``postgres_url`` (a fresh database per
test) are re-exported by ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import contextlib
import importlib.util
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


class ClusterUnavailable(Exception):
    """This machine cannot run a throwaway cluster (a missing tool, not a failure)."""


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


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A started cluster, stopped (immediate) and deleted on exit. ``ClusterUnavailable`` when this
    machine cannot run one; ``RuntimeError`` when the server does not start."""
    if importlib.util.find_spec("psycopg") is None:
        raise ClusterUnavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    for tool in ("initdb", "pg_ctl", "postgres"):
        if shutil.which(tool) is None:
            raise ClusterUnavailable(f"{tool} is not on PATH (install the PostgreSQL server binaries)")
    account = _server_account()
    if account is None:
        raise ClusterUnavailable("running as root and there is neither a 'postgres' nor a 'nobody' user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="mevops-pg-"))
    os.chown(base, account.pw_uid, account.pw_gid)
    cluster = Cluster(_free_port())
    data, log = base / "data", base / "server.log"
    init = _run_as(account, ["initdb", "-D", str(data), "-A", "trust", "-U", cluster.user, "-E", "UTF8",
                             "--no-sync", "--no-instructions"])
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ClusterUnavailable(f"initdb failed as {account.pw_name}: {init.stderr.strip()[-300:]}")
    options = f"-p {cluster.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = _run_as(account, ["pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"])
    if start.returncode != 0:
        detail = log.read_text()[-500:] if log.exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"the PostgreSQL server did not start: {detail}")
    try:
        yield cluster
    finally:
        _run_as(account, ["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database, dropped (connections and all) on exit."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with cluster.admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield cluster.url(name)
    finally:
        with cluster.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A fresh database per test on the session's cluster."""
    with fresh_database(postgres_cluster) as url:
        yield url
