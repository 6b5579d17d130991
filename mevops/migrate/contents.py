"""What a file's contents say: compose services and volumes, a unit's ExecStart, a script's
commands, chain ids in configs, key material (by shape only: secrets are never returned)."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mevops.migrate.names import NETWORK_ALIASES

if TYPE_CHECKING:
    from mevops.migrate.names import NameIndex

MAX_TEXT = 1 << 20
_NETWORK_FLAG = re.compile(r"--(sepolia|goerli|holesky|hoodi|mainnet|testnet|chapel|fuji|amoy|mumbai|devnet)\b")
_NETWORK_OPT = re.compile(r"--(?:[\w]+[.-])?(?:chain|network|networkid|network-id|net|cluster|chain\.name)"
                          r"(?:=|\s+)[\"']?([\w.-]+)")
_SOLANA_ENTRY = re.compile(r"entrypoint\d*\.(devnet|testnet|mainnet-beta)\.solana\.com")
_CHAIN_ID = re.compile(r"(?i)[\"']?\b(l2_chain_id|chain[_.]?id|networkid|network_id|network-id)\b[\"']?"
                       r"\s*[:=]\s*[\"']?(\d{1,12})\b")
_SECRET_FLAG = re.compile(r"(?i)(--?[\w.-]*(?:key|secret|password|passwd|token|mnemonic)[\w.-]*[= ])(\S+)")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}\s*$")


def read_head(path: str, size: int = 64) -> bytes:
    """The first bytes of a regular file (never blocks on a fifo: callers pass regular files only)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


def read_text(path: str, limit: int = MAX_TEXT) -> str | None:
    """A small UTF-8 text file's contents, or None (too big, binary, unreadable)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        data = read_head(path, limit + 1)
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def elf_type(head: bytes) -> str | None:
    """'core', 'executable' or None for an ELF header."""
    if len(head) < 18 or head[:4] != b"\x7fELF":
        return None
    e_type = int.from_bytes(head[16:18], "little" if head[5] == 1 else "big")
    return {4: "core", 2: "executable", 3: "executable"}.get(e_type, "elf")


def mask(text: str) -> str:
    """A command line with the values of secret-looking flags replaced by ***."""
    return _SECRET_FLAG.sub(lambda m: m[1] + "***", text)


@dataclass
class Deployment:
    """What a compose file, a unit or a script runs and where."""

    kind: str
    images: list[str] = field(default_factory=list)
    binaries: list[str] = field(default_factory=list)
    networks: set[str] = field(default_factory=set)
    chain_ids: set[int] = field(default_factory=set)
    host_paths: list[str] = field(default_factory=list)  # as written: absolute, or relative to the file's directory
    details: dict = field(default_factory=dict)           # safe to print (secrets masked)


def networks_in(text: str, index: "NameIndex") -> set[str]:
    found = {NETWORK_ALIASES[m] for m in _NETWORK_FLAG.findall(text) if m in NETWORK_ALIASES}
    for value in _NETWORK_OPT.findall(text):
        value = value.lower()
        if value in index.networks:
            found.add(index.networks[value])
        elif value.isdigit():
            hit = chain_of_id(int(value), index)
            if hit:
                found.add(hit[1])
    found |= {index.networks[m] for m in _SOLANA_ENTRY.findall(text) if m in index.networks}
    return found


def chain_ids_in(text: str) -> set[int]:
    return {int(v) for _, v in _CHAIN_ID.findall(text)}


def chain_of_id(chain_id: int, index: "NameIndex") -> tuple[str, str] | None:
    """(chain, network key) of an EVM chain id, from the catalog."""
    for name, chain in index.catalog.items():
        for key, net in chain.networks.items():
            if net.chain_id == chain_id and key != "local":
                return name, key
    return None


def binaries_in(text: str, index: "NameIndex") -> list[str]:
    """Known node binaries run by a script or ExecStart line (basename at a command position)."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for word in re.split(r"[\s;|&()`]+", line.split("=", 1)[1] if line.startswith("ExecStart") else line):
            base = word.strip("\"'").rsplit("/", 1)[-1]
            if base and (base in index.binaries or base in index.clients) and base not in found:
                found.append(base)
    return found


def images_in(text: str, index: "NameIndex") -> list[str]:
    """Catalog client images mentioned anywhere in a text (docker run lines, unparsable compose)."""
    from mevops.render.context import image_repository

    out = []
    for m in re.finditer(r"image:\s*[\"']?([^\s\"']+)|docker\s+run\s[^\n]*?\s([a-z0-9][\w./-]+/[\w.-]+(?::[\w.-]+)?)", text):
        image = m[1] or m[2]
        if image and image_repository(image) not in out:
            out.append(image)
    return out


def image_client(image: str, index: "NameIndex") -> tuple[str, str] | None:
    """(chain, client) whose catalog image is this image's repository (or whose name is its last part)."""
    from mevops.render.context import image_repository

    repo = image_repository(image)
    for name, chain in index.catalog.items():
        for cname, client in chain.clients.items():
            if image_repository(client.image) == repo and client.role != "devnet":
                return name, cname
    last = repo.rsplit("/", 1)[-1]
    owners = index.clients.get(last) or index.binaries.get(last) or []
    return owners[0] if len(owners) == 1 else None


def compose(text: str, index: "NameIndex", file: str) -> Deployment:
    from mevops.config.yamlsafe import parse_yaml
    from mevops.errors import MevopsError

    dep = Deployment("compose")
    try:
        services = parse_yaml(text, file).data.get("services")
    except MevopsError:
        services = None
    if not isinstance(services, dict):
        dep.images = images_in(text, index)
        dep.details["parsed"] = False
    else:
        for svc in services.values():
            if not isinstance(svc, dict):
                continue
            if isinstance(svc.get("image"), str):
                dep.images.append(svc["image"])
            for vol in svc.get("volumes") or []:
                src = vol.get("source") if isinstance(vol, dict) else str(vol).split(":", 1)[0] if ":" in str(vol) else None
                if isinstance(src, str) and (src.startswith(("/", "./", "../", "~")) or src == "."):
                    dep.host_paths.append(src)
            env_files = svc.get("env_file") or []
            for ef in [env_files] if isinstance(env_files, str) else env_files:
                if isinstance(ef, str):
                    dep.host_paths.append(ef if ef.startswith(("/", ".")) else "./" + ef)
        dep.details["services"] = [s for s in services if isinstance(s, str)]
    dep.details["images"] = list(dep.images)
    dep.details["volumes"] = list(dep.host_paths)
    dep.networks = networks_in(text, index)
    dep.chain_ids = chain_ids_in(text)
    return dep


def unit(text: str, index: "NameIndex") -> Deployment:
    dep = Deployment("systemd")
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        key, _, value = line.strip().partition("=")
        if key in ("ExecStart", "WorkingDirectory", "EnvironmentFile", "ExecStartPre", "User", "Description"):
            if key in ("ExecStart", "ExecStartPre"):
                value = value.lstrip("-@:+!")
                dep.details.setdefault(key.lower(), mask(value.strip()))
                dep.binaries += [b for b in binaries_in(value, index) if b not in dep.binaries]
                dep.host_paths += [w for w in _words(value) if w.startswith("/")]
            elif key in ("WorkingDirectory", "EnvironmentFile"):
                dep.host_paths.append(value.strip().lstrip("-"))
                dep.details[key.lower()] = value.strip()
            else:
                dep.details[key.lower()] = value.strip()
    dep.networks = networks_in(joined, index)
    dep.images = images_in(joined, index)
    return dep


def script(text: str, index: "NameIndex") -> Deployment:
    dep = Deployment("script")
    dep.binaries = binaries_in(text, index)
    dep.images = images_in(text, index)
    dep.networks = networks_in(text, index)
    dep.chain_ids = chain_ids_in(text)
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            dep.host_paths += [w for w in _words(line) if w.startswith("/")]
    return dep


def _words(line: str) -> list[str]:
    try:
        parts = shlex.split(line, comments=True)
    except ValueError:
        parts = line.split()
    out = []
    for part in parts:
        for piece in re.split(r"[=:,]", part):
            if piece.startswith("/"):
                out.append(piece.rstrip(";&|"))
    return out


def key_kind(path: str, name: str, size: int) -> str | None:
    """What kind of key material a small file is, judged by name and shape; None if not a key."""
    lower = name.lower()
    if size > 65536:
        return None
    if lower.endswith((".pem", ".key")) or lower in ("staker.crt", "signer.key"):
        head = read_head(path, 64)
        if b"-----BEGIN" in head or lower.endswith(".key"):
            return "PEM key or certificate"
    if lower in ("nodekey", "p2p_priv.txt", "opnode_p2p_priv.txt") or lower.startswith(("jwt", "jwtsecret")):
        text = read_text(path, 4096) or ""
        if _HEX64.match(text.strip() or "x"):
            return "JWT secret" if lower.startswith("jwt") else "p2p node key"
    if lower.endswith(".json"):
        text = read_text(path, 65536)
        if text is None:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if isinstance(doc, list) and len(doc) == 64 and all(isinstance(x, int) and 0 <= x < 256 for x in doc):
            return "solana keypair"
        if isinstance(doc, dict):
            keys = {k.lower() for k in doc}
            if "crypto" in keys and ("address" in keys or "version" in keys):
                return "encrypted keystore"
            if {"priv_key", "pub_key"} <= keys:
                return "validator key"
            if "priv_key" in keys:
                return "p2p node key"
            if "pubkeys" in keys or "pubkey" in keys and "path" in keys:
                return "validator keystore"
    if lower.startswith("utc--"):
        return "encrypted keystore"
    return None


def env_file(path: str) -> dict:
    """Variable names of a .env file and how many look secret; values are never read out."""
    from mevops.output import is_secret_key

    text = read_text(path, 262144) or ""
    names = [line.split("=", 1)[0].removeprefix("export ").strip() for line in text.splitlines()
             if "=" in line and not line.lstrip().startswith("#")]
    secret = [n for n in names if is_secret_key(n) or "KEY" in n.upper() or "MNEMONIC" in n.upper()]
    return {"variables": len(names), "secret_looking": len(secret)}
