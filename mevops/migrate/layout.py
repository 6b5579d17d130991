"""Where each kind of entry goes in the standardized tree (the layout `mevops render` produces).

    nodes/chains/<chain>/data/<network>/<client>          client data directories (or their pieces)
    nodes/chains/<chain>/config/<node>/...                 configs (and env files)
    nodes/chains/<chain>/config/keys/<node>/...            keys and keypairs (modes kept)
    nodes/chains/<chain>/deployment/<node>/...             compose files
    nodes/chains/<chain>/deployment/systemd/...            systemd units
    nodes/chains/<chain>/scripts/<node>/...                start scripts
    nodes/chains/<chain>/logs/{application,system}/<node>/ logs
    nodes/chains/<chain>/{source,binaries}/                source checkouts, executables
    nodes/chains/<chain>/backups/<node>/  (nodes/backups/) backups and archives
    mev/bots/, mev/scripts/, mev/data/                     MEV bots, scripts, data
    .mevops/migrate/junk/<original path>                   temp files, core dumps (kept, never deleted)

``<node>`` is the legacy node directory's name (``geth-mainnet``), or ``legacy`` for loose files,
so two nodes' ``start.sh`` never collide and the origin stays visible. What has no chain (or
no network, for data) gets no destination: it stays put and the plan says why.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mevops.migrate.scan import Entry

JUNK_DIR = ".mevops/migrate/junk"
SYSTEM_LOGS = ("syslog", "messages", "kern.log", "daemon.log", "journal")


def destination(e: "Entry") -> tuple[str | None, str | None]:
    """(dest relative to the root, or None; why it has none)."""
    name = posixpath.basename(e.path)
    node = e.node or "legacy"
    if e.role == "unknown":
        return None, f"unknown ({e.kind}): {e.why}; give it a dest and `action: move` to migrate it"
    if e.role == "junk":
        return f"{JUNK_DIR}/{e.path}", None
    if e.role == "mev":
        if e.kind == "MEV bot" or e.type == "dir":
            return f"mev/bots/{name}", None
        return (f"mev/data/{name}" if e.kind == "MEV data" else f"mev/scripts/{name}"), None
    if e.role == "backup":
        return (f"nodes/chains/{e.chain}/backups/{node}/{name}" if e.chain else f"nodes/backups/{name}"), None
    if e.chain is None:
        return None, f"{e.role} ({e.kind}) of no known chain: give it a dest to migrate it"
    base = f"nodes/chains/{e.chain}"
    if e.role == "chain-data":
        if e.client is None or e.network is None:
            return None, "data directory of an unknown client or network: give it a dest to migrate it"
        dest = f"{base}/data/{e.network}/{e.client}"
        return (f"{dest}/{name}" if e.part_of is not None else dest), None
    if e.role == "deployment":
        if e.kind == "systemd":
            return f"{base}/deployment/systemd/{name}", None
        if e.kind == "script":
            return f"{base}/scripts/{node}/{name}", None
        return f"{base}/deployment/{node}/{name}", None
    if e.role == "config":
        return f"{base}/config/{node}/{name}", None
    if e.role == "keys":
        return f"{base}/config/keys/{node}/{name}", None
    if e.role == "logs":
        kind = "system" if name.startswith(SYSTEM_LOGS) else "application"
        return f"{base}/logs/{kind}/{node}/{name}", None
    if e.role == "source":
        return f"{base}/source/{name}", None
    if e.role == "binary":
        return f"{base}/binaries/{name}", None
    return None, f"no rule for {e.role}"


def _inside(path: str, other: str) -> bool:
    return path.startswith(other + "/")


def resolve_collisions(rows: list[dict], root: str) -> None:
    """Give every move a distinct destination not nested in another one and free on disk;
    what cannot be made distinct is kept, with a note for a human."""
    by_dest: dict[str, list[dict]] = {}
    for row in rows:
        if row["dest"]:
            by_dest.setdefault(row["dest"], []).append(row)
    for dest, claimants in sorted(by_dest.items()):
        if len(claimants) < 2:
            continue
        if claimants[0]["role"] not in ("chain-data",):
            for row in claimants[1:]:
                parent = posixpath.dirname(row["source"]).replace("/", "-") or "top"
                row["dest"] = posixpath.join(posixpath.dirname(dest), _slug(parent), posixpath.basename(dest))
            continue
        sure = [r for r in claimants if not r["assumed"] and not r["note"]]
        winner = sure[0] if len(sure) == 1 else None
        for row in claimants:
            if row is not winner:
                others = ", ".join(r["source"] for r in claimants if r is not row)
                _keep(row, f"conflict: {dest} is also the destination of {others}; pick one (edit dest)")
    taken: dict[str, dict] = {}
    for row in sorted((r for r in rows if r["dest"]), key=lambda r: (r["dest"].count("/"), r["dest"])):
        dest = row["dest"]
        clash = taken.get(dest) or next((taken[d] for d in _ancestors(dest) if d in taken), None)
        if clash is not None:
            _keep(row, f"conflict: {dest} is (inside) the destination of {clash['source']}")
            continue
        full = os.path.join(root, dest)
        if os.path.lexists(full) and not (row["type"] == "dir" and _empty_dir(full)):
            _keep(row, f"conflict: {dest} already exists under the root")
            continue
        taken[dest] = row


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _keep(row: dict, note: str) -> None:
    row["action"], row["dest"] = "keep", None
    row["note"] = note if not row["note"] else f"{row['note']}; {note}"


def _empty_dir(path: str) -> bool:
    try:
        return os.path.isdir(path) and not os.path.islink(path) and not os.listdir(path)
    except OSError:
        return False


def _slug(text: str) -> str:
    from mevops.migrate.names import slug

    return slug(text)
