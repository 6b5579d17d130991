"""Tie deployment files to what they run: a compose file's images and volumes, a unit's
ExecStart and --datadir, a script's commands tell the chain, client and network of the data
they point at. Where names and contents disagree, the entry gets a conflict for a human."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mevops.migrate import contents

if TYPE_CHECKING:
    from mevops.migrate.names import NameIndex
    from mevops.migrate.scan import Entry


def _relative(path: str, base_dir: str, prefixes: tuple[str, ...]) -> str | None:
    """A path written in a deployment file, as a path relative to the source (None if outside)."""
    if path.startswith("~") or not path:
        return None
    full = os.path.normpath(path if os.path.isabs(path) else os.path.join(base_dir, path))
    for prefix in prefixes:
        if full == prefix:
            return ""
        if full.startswith(prefix + "/"):
            return full[len(prefix) + 1:]
    return None


def targets(rel: str, entries: list["Entry"]) -> list["Entry"]:
    """Entries a path points at: the entry holding it, or every entry inside it."""
    holder = [e for e in entries if rel == e.path or rel.startswith(e.path + "/")]
    return holder or [e for e in entries if rel == "" or e.path.startswith(rel + "/")]


def runs(entry: "Entry", index: "NameIndex") -> set[tuple[str, str]]:
    """(chain, client) pairs a deployment entry runs, from its images and binaries."""
    dep = entry.deployment
    found = {hit for hit in (contents.image_client(i, index) for i in dep.images) if hit}
    for binary in dep.binaries:
        chain, client = index.resolve(entry.chain, binary)
        if client:
            found.add((chain, client))
    return found


def refine(entries: list["Entry"], src: str, index: "NameIndex") -> None:
    prefixes = tuple(dict.fromkeys((src.rstrip("/"), os.path.realpath(src))))
    for entry in (e for e in entries if e.deployment is not None):
        _refine_deployment(entry, index)
        base = os.path.dirname(os.path.join(src, entry.path))
        for written in entry.deployment.host_paths:
            rel = _relative(written, base, prefixes)
            if rel is None:
                continue
            for target in targets(rel, entries):
                if target is entry or entry.path in target.linked_from:
                    continue
                target.linked_from.append(entry.path)
                if target.role == "chain-data":
                    _apply_to_data(target, entry, index)
    for entry in (e for e in entries if e.role == "chain-data" and e.network is None):
        nets = {e.network for e in entries if e.role == "deployment" and e.node and e.node == entry.node and e.network}
        if len(nets) == 1:
            entry.network = nets.pop()
            entry.why += f"; network {entry.network} from the deployment files beside it"
        else:
            entry.network = "mainnet"
            entry.assumed.append("network")


def _refine_deployment(entry: "Entry", index: "NameIndex") -> None:
    dep = entry.deployment
    pairs = runs(entry, index)
    chains = {c for c, _ in pairs}
    entry.details["runs"] = sorted(f"{c}/{cl}" for c, cl in pairs)
    if len(chains) > 1:
        entry.conflict = f"runs clients of several chains ({', '.join(sorted(chains))}): decide where it goes"
        entry.chain = entry.client = None
    elif chains:
        chain = chains.pop()
        if entry.chain and entry.chain != chain:
            entry.conflict = f"runs {chain} but its name or directory says {entry.chain}"
        entry.chain = chain
        clients = {cl for _, cl in pairs}
        entry.client = clients.pop() if len(clients) == 1 else entry.client
    if len(dep.networks) == 1:
        net = next(iter(dep.networks))
        if entry.network and entry.network != net and entry.conflict is None:
            entry.conflict = f"runs {net} but its name or directory says {entry.network}"
        entry.network = net
    elif len(dep.networks) > 1:
        entry.network = None
    for chain_id in sorted(dep.chain_ids):
        hit = contents.chain_of_id(chain_id, index)
        if hit and entry.chain in (None, hit[0]):
            entry.chain, entry.network = entry.chain or hit[0], entry.network or hit[1]


def _apply_to_data(data: "Entry", dep_entry: "Entry", index: "NameIndex") -> None:
    """What a deployment file says about a data directory it mounts or points at."""
    pairs = runs(dep_entry, index)
    if "chain" in data.assumed and len(pairs) == 1:
        chain, client = next(iter(pairs))
        from mevops.migrate.detect import markers

        if markers(index, chain, client)[:1] == markers(index, data.chain, data.client)[:1]:
            data.chain, data.client = chain, client
            data.assumed.remove("chain")
            data.why += f"; {dep_entry.path} runs {chain}/{client}"
    net = dep_entry.network
    if net and dep_entry.chain in (None, data.chain):
        if data.network is None or "network" in data.assumed:
            if "network" in data.assumed:
                data.assumed.remove("network")
            data.network = net
            data.why += f"; {dep_entry.path} runs it on {net}"
        elif data.network != net and data.conflict is None:
            data.conflict = f"{dep_entry.path} runs it on {net} but its name says {data.network}"
