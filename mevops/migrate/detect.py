"""Detectors: one small function per kind of thing found in a legacy tree, tried in order.

A file detector sees the file's name, stat and (lazily) its text; a directory detector sees the
directory's listing. Each returns a ``Detection`` or None. Data directories are recognised from
the catalog's ``data_dir`` layouts (``geth/chaindata``, ``nitro/l2chaindata``...) refined by a few
markers that tell look-alike layouts apart (``db/mdbx.dat`` is reth, ``db/fuji`` is avalanchego).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mevops.migrate import contents
from mevops.migrate.names import Hints, NameIndex

# Layout entries too common to prove anything alone.
GENERIC = {"db", "data", "config", "configs", "logs", "chaindata", "ledger", "database", "caches", "keystore",
           "state.json", "staking", "accounts", "beacon", "snapshots", "bootstore", "p2p_priv.txt", "safedb"}
# Paths whose presence proves a client's data directory (in addition to the catalog's distinctive entries).
MARKERS = {
    "geth": ["geth/chaindata", "geth/nodekey"], "bsc": ["geth/chaindata", "geth/nodekey"],
    "op-geth": ["geth/chaindata", "geth/nodekey"], "bor": ["bor/chaindata", "bor/nodekey"],
    "erigon": ["chaindata/mdbx.dat", "nodes/eth68"], "reth": ["db/mdbx.dat"], "op-reth": ["db/mdbx.dat"],
    "base-reth-node": ["db/mdbx.dat"], "besu": ["DATABASE_METADATA.json"], "lighthouse": ["beacon/chain_db"],
    "nitro": ["nitro/l2chaindata", "nitro/arbitrumdata"],
    "avalanchego": ["staking/staker.crt", "db/mainnet", "db/fuji", "chainData"],
    "heimdall": ["data/application.db", "data/blockstore.db", "config/priv_validator_key.json"],
    "agave": ["ledger/rocksdb", "ledger/genesis.bin", "ledger/genesis.tar.bz2"],
}
BARE_DATABASES = [("leveldb/pebble database", ["CURRENT", "MANIFEST-*"]), ("mdbx database", ["mdbx.dat"]),
                  ("rocksdb database", ["CURRENT", "OPTIONS-*"])]
PROJECT_FILES = {"package.json", "requirements.txt", "pyproject.toml", "setup.py", "Cargo.toml", "go.mod", "Pipfile",
                 "foundry.toml", "hardhat.config.js", "hardhat.config.ts", "tsconfig.json"}
CODE_EXT = (".py", ".js", ".ts", ".mjs", ".rs", ".go", ".sol", ".ipynb")
DATA_EXT = (".csv", ".db", ".sqlite", ".sqlite3", ".parquet", ".jsonl", ".pkl", ".feather")
JUNK_GLOBS = ["*.tmp", "*.temp", "*.swp", "*.swo", "*.swx", "*~", ".DS_Store", "Thumbs.db", "*.part", "*.crdownload",
              ".#*", "#*#", "*.pyc", "*.dump.tmp", "*.lock.tmp"]
JUNK_DIRS = {"__pycache__", ".cache", ".pytest_cache", ".mypy_cache", "node_modules.bak"}
ROTATED_LOG = re.compile(r"(\.log(\.\d+)?(\.gz|\.xz|\.zst|\.bz2)?|\.out|\.err)$"
                         r"|^(nohup\.out|syslog(\.\d+)?(\.gz)?|messages|kern\.log)$")
ARCHIVE = re.compile(r"\.(bak|backup|old|orig|tar|tgz|tar\.gz|tar\.zst|tar\.xz|tar\.bz2|tar\.lz4|zip|7z|gz|zst|xz|bz2|lz4)$")
CONFIG_EXT = (".toml", ".yaml", ".yml", ".json", ".conf", ".cfg", ".ini", ".properties", ".env", ".hcl")
SCRIPT_EXT = (".sh", ".bash", ".zsh")
UNIT_EXT = (".service", ".timer", ".socket", ".target", ".mount", ".path")


@dataclass
class Detection:
    role: str                       # chain-data config deployment keys logs mev backup junk source binary unknown
    kind: str                       # what exactly: "geth data directory", "docker compose file"...
    why: str
    chain: str | None = None
    client: str | None = None
    network: str | None = None
    details: dict = field(default_factory=dict)
    deployment: contents.Deployment | None = None
    secret: bool = False            # contents must never be shown
    assumed: list[str] = field(default_factory=list)


@dataclass
class FileCtx:
    path: str
    name: str
    st: os.stat_result
    hints: Hints                    # names of the file and its ancestors
    index: NameIndex
    dir_roles: frozenset[str] = frozenset()  # roles its directories' names give (backups/, logs/, tmp/)
    _text: object = field(default=False, repr=False)

    @property
    def text(self) -> str | None:
        if self._text is False:
            self._text = contents.read_text(self.path) if stat.S_ISREG(self.st.st_mode) else None
        return self._text  # type: ignore[return-value]


def _glob(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


# -- file detectors ------------------------------------------------------------------------------
def detect_special(f: FileCtx) -> Detection | None:
    mode = f.st.st_mode
    if stat.S_ISSOCK(mode):
        return Detection("junk", "unix socket (stale)", "a socket file nobody listens on")
    if stat.S_ISFIFO(mode):
        return Detection("unknown", "fifo", "a named pipe: left where it is")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Detection("unknown", "device node", "a device node: left where it is")
    return None


def detect_junk(f: FileCtx) -> Detection | None:
    if _glob(f.name, JUNK_GLOBS):
        return Detection("junk", "temporary or editor file", f"name matches {f.name!r}")
    core_name = re.fullmatch(r"core(\.\d+)?|.*\.core", f.name) and stat.S_ISREG(f.st.st_mode)
    if core_name and (f.name.startswith("core.") or contents.elf_type(contents.read_head(f.path, 32)) == "core"):
        return Detection("junk", "core dump", "ELF core file")
    if f.name.endswith(".pid") and f.st.st_size < 64:
        pid = (f.text or "").strip()
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            return Detection("junk", "stale pid file", f"process {pid} is not running")
    if "junk" in f.dir_roles:
        return Detection("junk", "temporary file", "inside a temporary directory")
    return None


def detect_rotated_log(f: FileCtx) -> Detection | None:
    if ROTATED_LOG.search(f.name):
        return Detection("logs", "log file", "log file name")
    return None


def detect_backup(f: FileCtx) -> Detection | None:
    if ARCHIVE.search(f.name.lower()):
        return Detection("backup", "archive or backup copy", f"extension of {f.name!r}")
    if "backup" in f.dir_roles:
        return Detection("backup", "file in a backup directory", "inside a backup directory")
    return None


def detect_keys(f: FileCtx) -> Detection | None:
    if f.name == ".env" or f.name.endswith(".env") or f.name.startswith(".env."):
        return Detection("config", "env file", "environment file (values not shown)", details=contents.env_file(f.path),
                         secret=True)
    kind = contents.key_kind(f.path, f.name, f.st.st_size)
    if kind:
        return Detection("keys", kind, f"{kind} (contents not shown)", secret=True)
    return None


def detect_compose(f: FileCtx) -> Detection | None:
    named = re.fullmatch(r"(docker-)?compose([.-][\w.-]+)?\.ya?ml", f.name.lower())
    text = f.text if (named or f.name.endswith((".yml", ".yaml"))) else None
    if text is None or not (named or re.search(r"(?m)^services:\s*$", text) and "image:" in text):
        return None
    dep = contents.compose(text, f.index, f.path)
    return Detection("deployment", "compose", "docker compose file" + (f": images {', '.join(dep.images)}" if dep.images else ""),
                     deployment=dep, details=dep.details)


def detect_unit(f: FileCtx) -> Detection | None:
    if not f.name.endswith(UNIT_EXT) or not stat.S_ISREG(f.st.st_mode):
        return None
    text = f.text or ""
    if "[Unit]" not in text and "[Service]" not in text:
        return None
    dep = contents.unit(text, f.index)
    return Detection("deployment", "systemd", "systemd unit" + (f" running {', '.join(dep.binaries)}" if dep.binaries else ""),
                     deployment=dep, details=dep.details)


def detect_log(f: FileCtx) -> Detection | None:
    if "logs" in f.dir_roles and stat.S_ISREG(f.st.st_mode) and not f.name.endswith(CONFIG_EXT + SCRIPT_EXT):
        return Detection("logs", "log file", "inside a logs directory")
    return None


def detect_script(f: FileCtx) -> Detection | None:
    text = f.text
    if text is None:
        return None
    shebang = text.startswith("#!")
    if not (f.name.endswith(SCRIPT_EXT) or shebang or ("script" in f.dir_roles and not f.name.endswith(CONFIG_EXT))):
        return None
    if f.name.endswith(CODE_EXT) and "mev" in f.hints.roles | NameIndex.hints(f.index, f.name).roles:
        return Detection("mev", "MEV script", "code with MEV words in its name or directory")
    dep = contents.script(text, f.index)
    return Detection("deployment", "script", "start script" + (f" running {', '.join(dep.binaries)}" if dep.binaries else ""),
                     deployment=dep, details={"runs": dep.binaries, "images": dep.images})


def detect_binary(f: FileCtx) -> Detection | None:
    if stat.S_ISREG(f.st.st_mode) and f.st.st_mode & 0o111 and contents.elf_type(contents.read_head(f.path, 32)) == "executable":
        return Detection("binary", "executable", "ELF executable")
    return None


def detect_config(f: FileCtx) -> Detection | None:
    if not f.name.lower().endswith(CONFIG_EXT):
        return None
    text = f.text or ""
    det = Detection("config", "config file", f"{Path(f.name).suffix} file")
    if f.name == "rollup.json":
        det.kind, det.why = "rollup config", "OP Stack rollup.json"
    ids = contents.chain_ids_in(text)
    for chain_id in sorted(ids):
        hit = contents.chain_of_id(chain_id, f.index)
        if hit:
            det.chain, det.network = hit
            det.why += f" (chain id {chain_id}: {hit[0]} {hit[1]})"
            break
    nets = contents.networks_in(text, f.index)
    if det.network is None and len(nets) == 1:
        det.network = next(iter(nets))
    return det


def detect_mev_file(f: FileCtx) -> Detection | None:
    roles = f.hints.roles | NameIndex.hints(f.index, f.name).roles
    if "mev" in roles and f.name.endswith(CODE_EXT + DATA_EXT + CONFIG_EXT):
        kind = "MEV data" if f.name.endswith(DATA_EXT) else "MEV code or config"
        return Detection("mev", kind, "MEV words in its name or directory")
    return None


FILE_DETECTORS: list[Callable[[FileCtx], Detection | None]] = [
    detect_special, detect_junk, detect_rotated_log, detect_backup, detect_keys, detect_compose, detect_unit,
    detect_log, detect_binary, detect_mev_file, detect_script, detect_config,
]


def detect_file(f: FileCtx) -> Detection:
    for detector in FILE_DETECTORS:
        hit = detector(f)
        if hit is not None:
            return hit
    return Detection("unknown", "file", "nothing recognises it")


# -- directory detectors --------------------------------------------------------------------------
def markers(index: NameIndex, chain: str, client: str) -> list[str]:
    layout = index.catalog[chain].clients[client].data_dir.values()
    return list(dict.fromkeys(MARKERS.get(client, []) + [s for s in layout if "/" in s or s not in GENERIC]))


def datadir_candidates(path: str, names: set[str], index: NameIndex) -> list[tuple[int, str, str, list[str]]]:
    """(score, chain, client, evidence) for every catalog client whose data layout this directory has."""
    out = []
    for chain_name, chain in index.catalog.items():
        for cname, client in chain.clients.items():
            if client.role == "devnet" or not client.data_dir:
                continue
            found = [m for m in markers(index, chain_name, cname)
                     if m.split("/")[0] in names and os.path.lexists(os.path.join(path, m))]
            if not found:
                continue
            layout = [s for s in client.data_dir.values() if s.split("/")[0] in names and os.path.lexists(os.path.join(path, s))]
            out.append((2 * len(found) + len(layout), chain_name, cname, found))
    return out


def pick_datadir(cands: list[tuple[int, str, str, list[str]]], hints: Hints, index: NameIndex) -> Detection:
    """The best candidate the names agree with; failing that the best one, flagged as assumed if ambiguous."""
    matching = [c for c in cands if c[1] == hints.chain] or [c for c in cands if c[2] == hints.client]
    pool = matching or cands
    best = max(c[0] for c in pool)
    top = [c for c in pool if c[0] == best]
    assumed: list[str] = []
    if not matching:
        rivals = {c[1] for c in cands if set(c[3]) & set(top[0][3])}
        top = [c for c in top if c[2] == index.catalog[c[1]].clients[c[2]].binary] or top
        if len(rivals) > 1:
            assumed.append("chain")
    _, chain, client, found = sorted(top, key=lambda c: (c[1], c[2]))[0]
    det = Detection("chain-data", f"{client} data directory", f"contains {', '.join(found)} ({chain}/{client} data_dir)",
                    chain=chain, client=client, assumed=assumed)
    return det


def detect_datadir(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    cands = datadir_candidates(path, names, index)
    if not cands:
        return None
    det = pick_datadir(cands, hints, index)
    if det.client == "avalanchego" and "db" in names:
        nets = [n for n in _listdir(os.path.join(path, "db")) if n in index.networks]
        if len(nets) == 1:
            det.network = index.networks[nets[0]]
            det.why += f"; db/{nets[0]} says {det.network}"
    return det


def detect_bare_database(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    for kind, patterns in BARE_DATABASES:
        if all(any(fnmatch.fnmatchcase(n, p) for n in names) for p in patterns):
            return Detection("unknown", kind, f"a bare {kind} outside a recognisable data directory: decide where it goes")
    return None


def detect_source(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    if ".git" in names:
        role = "mev" if "mev" in hints.roles and not hints.client else "source"
        return Detection(role, "source checkout", "a git checkout (.git)")
    return None


def detect_mev_project(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    if "mev" not in hints.roles or hints.client:
        return None
    if names & PROJECT_FILES or any(n.endswith(CODE_EXT) for n in names):
        shown = ", ".join(sorted(names & PROJECT_FILES)) or "source files"
        return Detection("mev", "MEV bot", f"a code project ({shown}) in an MEV place")
    return None


def detect_keystore_dir(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    if "keys" not in index.hints(os.path.basename(path)).roles or not names:
        return None
    return Detection("keys", "key directory", "a keystore/keys directory (contents not shown)", secret=True)


def detect_junk_dir(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    base = os.path.basename(path)
    if base in JUNK_DIRS or ("junk" in index.hints(base).roles and not hints.says_node):
        return Detection("junk", "temporary directory", f"name {base!r}")
    return None


def detect_logs_dir(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    base = os.path.basename(path)
    if "logs" in index.hints(base).roles and hints.chain and all(ROTATED_LOG.search(n) or n.isdigit() for n in names):
        return Detection("logs", "log directory", f"{base!r} holding log files")
    return None


DIR_DETECTORS = [detect_datadir, detect_source, detect_mev_project, detect_keystore_dir, detect_junk_dir,
                 detect_logs_dir, detect_bare_database]


def detect_dir(path: str, names: set[str], hints: Hints, index: NameIndex) -> Detection | None:
    for detector in DIR_DETECTORS:
        hit = detector(path, names, hints, index)
        if hit is not None:
            return hit
    return None


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []
