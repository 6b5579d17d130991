"""A messy legacy nodes directory, built deterministically from a seed (tests and benchmarks).

It has what real operators' /data/blockchain/nodes has: mixed names (geth-mainnet, Arbitrum-Nitro,
op_geth, bsc_mainnet, avax), realistic client data layouts with LOCK files, compose files, systemd
units and start scripts side by side, configs in several places, testnets nested inside mainnet
directories, MEV bots with .env files, logs and backups in the wrong places, temp files and core
dumps, sparse files, hard links, symlinks of every kind (relative, absolute, dangling, loops), a
fifo, a stale socket, names with spaces and unicode, an unreadable directory and unknown stuff.

Also: ``snapshot_tree`` (what a tree is, byte for byte) and ``expected_tree`` (what a plan should
turn it into), so tests can compare trees exactly.
"""

from __future__ import annotations

import json
import os
import random
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

EPOCH = 1_600_000_000


@dataclass
class FixtureSpec:
    seed: int = 1
    chaindata_files: int = 3      # files per database directory (ldb/sst/static files)
    file_size: int = 2048         # bytes per database file
    sparse_size: int = 1 << 20    # logical size of the sparse files (mdbx.dat, freezer files)
    dense: bool = True            # write the bytes (False: fallocate them: allocated, not written)
    owners: bool = True           # give some files other owners (when root)
    specials: bool = True         # fifo, stale socket, device node (when root)
    extra_nodes: int = 0          # more geth data directories (benchmark scale)


class Maker:
    def __init__(self, src: Path, outside: Path, spec: FixtureSpec) -> None:
        self.src, self.outside, self.spec = src, outside, spec
        self.rng = random.Random(spec.seed)
        self.block = self.rng.randbytes(1 << 16)

    # -- primitives ----------------------------------------------------------------------------
    def data(self, n: int) -> bytes:
        start = self.rng.randrange(len(self.block))
        buf = (self.block[start:] + self.block) * (n // len(self.block) + 2)
        return buf[:n]

    def file(self, rel: str, content: bytes | str | None = None, mode: int = 0o644, size: int | None = None,
             base: Path | None = None) -> Path:
        path = (base or self.src) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            n = self.spec.file_size if size is None else size
            if self.spec.dense or n < 4096:
                content = self.data(n)
            else:
                with open(path, "wb") as fh:
                    os.posix_fallocate(fh.fileno(), 0, n)
                content = None
        if content is not None:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        os.chmod(path, mode)
        return path

    def sparse(self, rel: str, base: Path | None = None) -> Path:
        path = (base or self.src) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(self.data(8192))
            fh.seek(self.spec.sparse_size // 2)
            fh.write(self.data(4096))
            fh.truncate(self.spec.sparse_size)
        return path

    def db(self, rel: str, kind: str = "ldb", base: Path | None = None) -> None:
        """A LevelDB/Pebble/RocksDB-like directory: CURRENT, MANIFEST, LOCK, LOG, table files."""
        self.file(f"{rel}/CURRENT", "MANIFEST-000004\n", base=base)
        self.file(f"{rel}/MANIFEST-000004", size=512, base=base)
        self.file(f"{rel}/LOCK", b"", base=base)
        self.file(f"{rel}/LOG", "2024/01/01-00:00:00.000 opened\n", base=base)
        self.file(f"{rel}/OPTIONS-000007", "[Version]\n", base=base)
        for i in range(self.spec.chaindata_files):
            self.file(f"{rel}/{i + 5:06d}.{kind}", base=base)

    def link(self, rel: str, target: str) -> None:
        path = self.src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    # -- client data directories -----------------------------------------------------------------
    def geth(self, rel: str, base: Path | None = None, client_dir: str = "geth") -> None:
        self.db(f"{rel}/{client_dir}/chaindata", base=base)
        self.sparse(f"{rel}/{client_dir}/chaindata/ancient/chain/bodies.0000.cdat", base=base)
        self.file(f"{rel}/{client_dir}/chaindata/ancient/chain/bodies.cidx", size=600, base=base)
        self.file(f"{rel}/{client_dir}/nodekey", self.rng.randbytes(32).hex(), mode=0o600, base=base)
        self.file(f"{rel}/{client_dir}/LOCK", b"", base=base)
        self.file(f"{rel}/{client_dir}/transactions.rlp", size=300, base=base)
        address = self.rng.randbytes(20).hex()
        self.file(f"{rel}/keystore/UTC--2021-03-04T05-06-07.000000000Z--{address}",
                  json.dumps({"address": address, "crypto": {"cipher": "aes-128-ctr", "ciphertext": "00" * 32},
                              "version": 3}), mode=0o600, base=base)

    def erigon(self, rel: str) -> None:
        self.sparse(f"{rel}/chaindata/mdbx.dat")
        self.file(f"{rel}/chaindata/mdbx.lck", size=4096)
        for i in range(self.spec.chaindata_files):
            self.file(f"{rel}/snapshots/v1-{i:06d}-{i + 1:06d}-headers.seg")
        self.file(f"{rel}/nodekey", self.rng.randbytes(32).hex(), mode=0o600)

    def reth(self, rel: str) -> None:
        self.sparse(f"{rel}/db/mdbx.dat")
        self.file(f"{rel}/db/mdbx.lck", size=4096)
        self.file(f"{rel}/db/database.version", "2")
        for i in range(self.spec.chaindata_files):
            self.file(f"{rel}/static_files/static_file_headers_{i * 500000}_{i * 500000 + 499999}")
        self.file(f"{rel}/reth.toml", "[stages.headers]\ndownloader_max_concurrent_requests = 100\n")

    def nitro(self, rel: str) -> None:
        self.db(f"{rel}/nitro/l2chaindata", "sst")
        self.db(f"{rel}/nitro/arbitrumdata", "sst")
        self.file(f"{rel}/nitro/wasm/CURRENT", "MANIFEST-000001\n")

    def avalanchego(self, rel: str, network: str) -> None:
        self.db(f"{rel}/db/{network}/v1.4.5")
        self.file(f"{rel}/staking/staker.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", mode=0o600)
        self.file(f"{rel}/staking/staker.key", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", mode=0o600)
        self.file(f"{rel}/configs/chains/C/config.json", json.dumps({"state-sync-enabled": True}))
        self.file(f"{rel}/logs/main.log", "[01-01|00:00:00.000] INFO node started\n")

    def heimdall(self, rel: str) -> None:
        self.file(f"{rel}/config/genesis.json", json.dumps({"chain_id": "heimdallv2-137"}))
        self.file(f"{rel}/config/config.toml", 'moniker = "node"\n')
        self.file(f"{rel}/config/priv_validator_key.json",
                  json.dumps({"address": "AB" * 20, "pub_key": {"value": "x"}, "priv_key": {"value": "heimdall-private-key-material"}}), mode=0o600)
        self.db(f"{rel}/data/application.db")
        self.file(f"{rel}/data/priv_validator_state.json", json.dumps({"height": "0"}))

    def agave(self, rel: str) -> None:
        self.db(f"{rel}/ledger/rocksdb", "sst")
        self.file(f"{rel}/ledger/genesis.bin", size=1024)
        self.file(f"{rel}/ledger/snapshot-1000-abc.tar.zst", size=2048)
        self.file(f"{rel}/accounts/run/0.0", size=1024)

    def lighthouse(self, rel: str) -> None:
        self.db(f"{rel}/beacon/chain_db")
        self.db(f"{rel}/beacon/freezer_db")
        self.file(f"{rel}/beacon/network/enr.dat", "enr:-abc")

    def opnode(self, rel: str) -> None:
        self.file(f"{rel}/opnode_p2p_priv.txt", self.rng.randbytes(32).hex(), mode=0o600)
        self.db(f"{rel}/opnode_peerstore_db")
        self.db(f"{rel}/opnode_discovery_db")

    # -- deployment files ------------------------------------------------------------------------
    def compose(self, rel: str, image: str, volumes: list[str], command: str, env_file: bool = False) -> None:
        vols = "".join(f"      - {v}\n" for v in volumes)
        env = "    env_file: .env\n" if env_file else ""
        self.file(rel, f"services:\n  node:\n    image: {image}\n    restart: unless-stopped\n{env}"
                       f"    command: {command}\n    volumes:\n{vols}")

    def unit(self, rel: str, exec_start: str, workdir: str | None = None) -> None:
        wd = f"WorkingDirectory={workdir}\n" if workdir else ""
        self.file(rel, f"[Unit]\nDescription=node\nAfter=network.target\n\n[Service]\nUser=node\n{wd}"
                       f"ExecStart={exec_start}\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n")

    def script(self, rel: str, body: str) -> None:
        self.file(rel, f"#!/bin/bash\nset -euo pipefail\n{body}\n", mode=0o755)


def make_messy_tree(src: Path, spec: FixtureSpec | None = None, outside: Path | None = None) -> Path:
    """Build the legacy tree at ``src`` (must not exist); returns ``src``."""
    spec = spec or FixtureSpec()
    outside = outside or src.parent / f"{src.name}-outside"
    src.mkdir(parents=True)
    outside.mkdir(parents=True, exist_ok=True)
    m = Maker(src, outside, spec)
    S = str(src)
    root = os.geteuid() == 0

    # geth-mainnet: compose + .env + start script + config + data + nested sepolia + logs + backup + swap file
    m.geth("geth-mainnet/data")
    m.compose("geth-mainnet/docker-compose.yml", "ethereum/client-go:v1.13.15",
              ["./data:/root/.ethereum", f"{S}/geth-mainnet/config.toml:/config.toml:ro"],
              "--mainnet --config /config.toml --http", env_file=True)
    m.file("geth-mainnet/.env", "PRIVATE_KEY=0x" + "ab" * 32 + "\nRPC_URL=http://localhost:8545\n", mode=0o600)
    m.script("geth-mainnet/start.sh", f"exec /usr/local/bin/geth --datadir {S}/geth-mainnet/data --mainnet "
                                      f"--config {S}/geth-mainnet/config.toml >> {S}/geth-mainnet/geth.log 2>&1")
    m.file("geth-mainnet/config.toml", f'[Eth]\nNetworkId = 1\nSyncMode = "snap"\n\n[Node]\nDataDir = "{S}/geth-mainnet/data"\n')
    m.file("geth-mainnet/geth.log", "INFO [01-01|00:00:00.000] Imported new chain segment\n" * 20)
    m.file("geth-mainnet/geth.log.1.gz", size=700)
    m.file("geth-mainnet/nohup.out", "nohup: ignoring input\n")
    m.geth("geth-mainnet/sepolia")
    m.file("geth-mainnet/chaindata-backup-2023.tar.gz", size=3000)
    m.file("geth-mainnet/.config.toml.swp", size=1024)
    m.link("geth-mainnet/data/geth/chaindata/ancient-link", "ancient")
    m.link("geth-mainnet/data/geth/jwt", "../../jwt-elsewhere.hex")
    m.link("geth-mainnet/data/geth/static-nodes.json", str(outside / "static-nodes.json"))
    (outside / "static-nodes.json").write_text("[]\n")
    ckpt = src / "geth-mainnet/data/geth/chaindata/checkpoint"
    ckpt.mkdir()
    os.link(src / "geth-mainnet/data/geth/chaindata/000005.ldb", ckpt / "000005.ldb")

    # Arbitrum-Nitro: the data directory itself, with compose and logs inside
    m.nitro("Arbitrum-Nitro")
    m.compose("Arbitrum-Nitro/docker-compose.yml", "offchainlabs/nitro-node:v2.3.1-26fad6f",
              ["./:/home/user/.arbitrum"], "--chain.id=42161 --parent-chain.connection.url=http://geth:8545")
    m.file("Arbitrum-Nitro/logs/nitro.log", "INFO created block\n" * 10)
    m.file("Arbitrum-Nitro/logs/nitro.log.1", "INFO created block\n" * 10)

    # op_geth: geth layout + rollup.json + unit + jwt
    m.geth("op_geth")
    m.file("op_geth/rollup.json", json.dumps({"genesis": {"l2": {"number": 105235063}}, "l2_chain_id": 10, "block_time": 2}, indent=2))
    m.unit("op_geth/op-geth.service", f"/usr/local/bin/geth --datadir={S}/op_geth --op-network=op-mainnet "
                                      f"--authrpc.jwtsecret={S}/op_geth/jwt.txt")
    m.file("op_geth/jwt.txt", m.rng.randbytes(32).hex(), mode=0o600)
    m.opnode("op-node")
    m.unit("op-node/op-node.service", f"/usr/local/bin/op-node --network=op-mainnet --rollup.config={S}/op_geth/rollup.json "
                                      f"--p2p.priv.path={S}/op-node/opnode_p2p_priv.txt")

    # bsc_mainnet: data in node/, config, script with relative paths, core dump, stale pid
    m.geth("bsc_mainnet/node")
    m.file("bsc_mainnet/config.toml", '[Eth]\nNetworkId = 56\n[Node]\nDataDir = "./node"\n')
    m.script("bsc_mainnet/start_bsc.sh", "cd \"$(dirname \"$0\")\"\nexec ./geth --config ./config.toml --datadir ./node --cache 8000")
    m.file("bsc_mainnet/core.12345", b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x04\x00" + m.data(4000))
    m.file("bsc_mainnet/bsc.pid", "999999\n")

    # avax: avalanchego data directory with a unit and a start script inside
    m.avalanchego("avax", "mainnet")
    m.unit("avax/avalanchego.service", f"/usr/local/bin/avalanchego --data-dir={S}/avax --network-id=mainnet")
    m.script("avax/start.sh", f"avalanchego --data-dir={S}/avax --http-host=0.0.0.0")

    # polygon: bor + heimdall side by side, units and a script
    m.geth("polygon/bor-data", client_dir="bor")
    m.heimdall("polygon/heimdall")
    m.unit("polygon/bor.service", f"/usr/local/bin/bor server --datadir {S}/polygon/bor-data --chain=mainnet")
    m.unit("polygon/heimdalld.service", f"/usr/local/bin/heimdalld start --home {S}/polygon/heimdall --chain=mainnet")

    # solana: agave data directory with keypairs and a start script
    m.agave("solana")
    keypair = json.dumps([m.rng.randrange(256) for _ in range(64)])
    m.file("solana/validator-keypair.json", keypair, mode=0o600)
    m.file("solana/vote-account-keypair.json", json.dumps([m.rng.randrange(256) for _ in range(64)]), mode=0o600)
    m.script("solana/solana-validator.sh", f"exec agave-validator --identity {S}/solana/validator-keypair.json "
                                           f"--ledger {S}/solana/ledger --entrypoint entrypoint.mainnet-beta.solana.com:8001")

    m.erigon("erigon-holesky")
    m.reth("reth")
    m.lighthouse("lighthouse")
    m.unit("lighthouse.service", f"/usr/local/bin/lighthouse bn --datadir {S}/lighthouse --network mainnet")

    # testnets grouped in one directory
    m.avalanchego("testnet/fuji-avax", "fuji")
    m.geth("testnet/chapel")
    m.geth("testnet/amoy-bor", client_dir="bor")

    # MEV bots
    bot = "mev-bots/arb-bot-py"
    m.file(f"{bot}/bot.py", "import os\nKEY = os.environ['PRIVATE_KEY']\n")
    m.file(f"{bot}/strategy.py", "def run():\n    pass\n")
    os.link(src / f"{bot}/strategy.py", src / f"{bot}/strategy_link.py")
    m.file(f"{bot}/requirements.txt", "web3==6.0.0\n")
    m.file(f"{bot}/.env", "PRIVATE_KEY=0x" + "cd" * 32 + "\nFLASHBOTS_AUTH_KEY=0x" + "ef" * 32 + "\n", mode=0o600)
    m.file(f"{bot}/config.json", json.dumps({"min_profit": "0.01"}))
    m.file(f"{bot}/logs/bot.log", "found opportunity\n" * 30)
    m.file(f"{bot}/__pycache__/bot.cpython-311.pyc", size=300)
    m.file(f"{bot}/data/trades.db", size=5000)
    m.file("mev-bots/sandwich-js/package.json", json.dumps({"name": "sandwich", "dependencies": {"ethers": "6"}}))
    m.file("mev-bots/sandwich-js/index.js", "console.log('hi')\n")
    m.file("mev-bots/sandwich-js/.env", "PRIVATE_KEY=0x" + "12" * 32 + "\n", mode=0o600)
    m.file("mev-bots/sandwich-js/node_modules/ethers/package.json", "{}")
    m.file("mev-bots/liquidator-rs/Cargo.toml", '[package]\nname = "liquidator"\n')
    m.file("mev-bots/liquidator-rs/src/main.rs", "fn main() {}\n")
    m.file("mev-bots/liquidator-rs/target/release/liquidator", b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00" + m.data(2000), mode=0o755)

    # scattered scripts, backups, logs, temp files
    m.script("scripts/restart-all.sh", "systemctl restart geth\nsystemctl restart bor\n/usr/local/bin/geth version\n/usr/local/bin/bor version")
    m.script("scripts/backup-geth.sh", f"tar czf /backups/geth.tgz {S}/geth-mainnet/data")
    m.file("scripts/mev_monitor.py", "print('watching bundles')\n", mode=0o755)
    m.script("scripts/cleanup.sh", "find /tmp -mtime +7 -delete")
    m.file("backups/geth-mainnet-2023-01-01.tar.gz", size=4000)
    m.file("backups/bsc-config.toml.bak", '[Eth]\nNetworkId = 56\n')
    os.link(src / "geth-mainnet/data/geth/nodekey", src / "backups/nodekey.bak")
    m.file("backups/old-notes.txt", "remember to rotate keys\n")
    m.file("logs/geth.log", "INFO old geth log\n" * 5)
    m.file("logs/bor.log", "INFO old bor log\n" * 5)
    m.file("logs/syslog", "kernel: something\n")
    m.file("tmp/download.part", size=3000)
    m.file("tmp/x.tmp", "scratch\n")

    # odd names, unknowns, a copy of a data directory, symlinks of every kind, special files
    m.geth("geth mainnet copy")
    m.file("données été/notes.txt", "des notes\n")
    m.file("my notes.txt", "call the datacenter\n")
    m.file("README.md", "# nodes\n")
    (src / "empty-dir").mkdir()
    m.file("private/secret.txt", "do not read\n", mode=0o600)
    m.geth("archive-geth", base=outside)
    m.link("current", "geth-mainnet")
    m.link("latest.log", "geth-mainnet/geth.log")
    m.link("dangling", "/nonexistent/geth/data")
    m.link("loop-a", "loop-b")
    m.link("loop-b", "loop-a")
    m.link("self-loop", "self-loop")
    m.link("archive-geth", str(outside / "archive-geth"))
    m.file("jwt.hex", m.rng.randbytes(32).hex(), mode=0o600)
    for i in range(spec.extra_nodes):
        m.geth(f"geth-archive-{i:02d}/data")
    if spec.specials:
        os.mkfifo(src / "events.fifo", 0o640)
        os.mkfifo(src / f"{bot}/control.fifo", 0o600)
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(src / "geth-mainnet/data/geth.ipc"))
        sock.close()
        if root:
            os.mknod(src / "mev-bots/liquidator-rs/null-device", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    if spec.owners and root:
        for p in (src / "mev-bots/arb-bot-py").rglob("*"):
            os.lchown(p, 1001, 1001)
        os.lchown(src / "geth-mainnet/data/keystore", 1000, 1000)
        os.lchown(src / "current", 1002, 1002)
    os.chmod(src / "private", 0)
    _set_times(src, m.rng)
    _set_times(outside, m.rng)
    return src


def _set_times(top: Path, rng: random.Random) -> None:
    """Deterministic, distinct mtimes everywhere (directories last, so children do not disturb them)."""
    paths = sorted(top.rglob("*"), key=lambda p: (-len(p.parts), str(p)))
    for p in paths:
        t = EPOCH + rng.randrange(10 ** 7) + rng.randrange(10 ** 9) / 1e9
        ns = int(t * 1e9)
        os.utime(p, ns=(ns, ns), follow_symlinks=False)


# -- snapshots ---------------------------------------------------------------------------------------
def file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def snapshot_tree(top: Path, skip: tuple[str, ...] = (".mevops",)) -> dict[str, dict]:
    """Everything a tree is: type, mode, owner, mtime, size, allocation, content, link target, hard-link group."""
    out: dict[str, dict] = {}
    inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) == top and d in skip))
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            rel = str(path.relative_to(top))
            st = os.lstat(path)
            info = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                    "mtime": st.st_mtime_ns}
            if stat.S_ISLNK(st.st_mode):
                info["target"] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                info["size"] = st.st_size
                info["sparse"] = st.st_blocks * 512 < st.st_size
                info["allocated"] = st.st_blocks * 512
                info["digest"] = file_digest(path)
                if st.st_nlink > 1:
                    info["link_group"] = inodes.setdefault((st.st_dev, st.st_ino), rel)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                info["rdev"] = st.st_rdev
            out[rel] = info
    return out


def tree_state(source: Path, root: Path) -> dict[tuple[str, str], dict]:
    """Both sides of a migration in one snapshot: ("src", rel) and ("dst", rel) keys; the root's
    .mevops state is left out except the junk quarantine, which is part of the migrated tree."""
    out = {("src", rel): info for rel, info in snapshot_tree(source).items()}
    if root.exists():
        out.update({("dst", rel): info for rel, info in snapshot_tree(root).items()})
        junk = root / ".mevops/migrate/junk"
        if junk.exists():
            out.update({("dst", f".mevops/migrate/junk/{rel}"): info for rel, info in snapshot_tree(junk).items()})
    return _canonical_links(out)


def _canonical_links(tree: dict) -> dict:
    groups: dict = {}
    for key, info in tree.items():
        if "link_group" in info:
            groups.setdefault((key[0], info["link_group"]), []).append(key)
    for members in groups.values():
        for key in members:
            tree[key]["link_group"] = min(members)
    return tree


def expected_tree(before: dict[str, dict], plan, source: Path) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    """What ``before`` (a snapshot of the source taken before apply) becomes under ``plan``:
    moved entries at their destinations with the same bytes and metadata; rewritten files carry
    their expected bytes under "rewritten" (their mtime is new)."""
    import os as _os

    from mevops.migrate.rewrite import mapping_for, rewrite_bytes

    moves = [(i.source, i.dest, i) for i in plan.items if i.action == "move"]
    paths = mapping_for(plan)
    out: dict[tuple[str, str], dict] = {}
    for rel, info in before.items():
        key = ("src", rel)
        for old, new, item in moves:
            if rel == old or rel.startswith(old + "/"):
                key = ("dst", new + rel[len(old):])
                if item.rewrite and rel == old:
                    info = dict(info, rewritten=info["digest"])
                break
        out[key] = dict(info)
    for old, new, item in moves:
        if item.rewrite:
            original = (source / old).read_bytes() if (source / old).exists() else None
            if original is not None:
                data = rewrite_bytes(original, paths, _os.path.dirname(_os.path.join(plan.source, old)), item.kind)
                out[("dst", new)]["rewritten"] = data
    groups: dict = {}
    for key, info in out.items():
        if "link_group" in info:
            groups.setdefault(info["link_group"], []).append(key)
    for members in groups.values():
        for key in members:
            out[key]["link_group"] = min(members)
    return out


def compare_trees(expected: dict, actual: dict, plan, *, allocation: bool = True) -> list[str]:  # noqa: ANN001
    """Differences that matter: every expected entry present and identical (directory times only where
    the migration does not touch them by design), nothing extra except directories it created."""
    moved_parents = {("src", str(Path(i.source).parent)) if "/" in i.source else ("src", "") for i in plan.items
                     if i.action == "move"}
    dest_tops = [i.dest for i in plan.items if i.action == "move"]
    problems = []
    for key, want in expected.items():
        got = actual.get(key)
        if got is None:
            problems.append(f"missing {key}")
            continue
        if "rewritten" in want:
            data = want["rewritten"]
            path_ok = isinstance(data, bytes)
            if path_ok and got.get("digest") != _digest_bytes(data):
                problems.append(f"{key}: rewritten content differs")
            want = {k: v for k, v in want.items() if k not in ("rewritten", "digest", "size", "mtime", "allocated", "sparse")}
            got = {k: v for k, v in got.items() if k in want}
        elif want["type"] == stat.S_IFDIR and (key in moved_parents or (key[0] == "dst" and not _inside_any(key[1], dest_tops))):
            want = {k: v for k, v in want.items() if k != "mtime"}
            got = {k: v for k, v in got.items() if k != "mtime"}
        if not allocation:
            want = {k: v for k, v in want.items() if k != "allocated"}
            got = {k: v for k, v in got.items() if k != "allocated"}
        if want != got:
            diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
            problems.append(f"{key}: {diff}")
    for key, got in actual.items():
        if key not in expected and not (key[0] == "dst" and got["type"] == stat.S_IFDIR
                                        and any(d.startswith(key[1] + "/") for d in dest_tops)):
            problems.append(f"unexpected {key}")
    return problems


def _inside_any(rel: str, tops: list[str]) -> bool:
    return any(rel == t or rel.startswith(t + "/") for t in tops)


def _digest_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()
