"""What a legacy name says: chain, client, network and role hints from file and directory names.

``geth-mainnet`` → ethereum/geth/mainnet, ``Arbitrum-Nitro`` → arbitrum/nitro, ``op_geth`` →
optimism/op-geth, ``bsc_mainnet`` → bsc/mainnet, ``avax`` → avalanche, ``sepolia`` → testnet.
Chain, client and network names come from the catalog; the extra aliases below are the ones
operators actually type.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mevops.catalog.models import Chain

CHAIN_ALIASES = {
    "eth": "ethereum", "ether": "ethereum", "arb1": "arbitrum", "arbitrum-one": "arbitrum", "avax": "avalanche",
    "ava": "avalanche", "c-chain": "avalanche", "bnb": "bsc", "binance": "bsc", "bnb-chain": "bsc", "op": "optimism",
    "matic": "polygon", "pos": "polygon", "sol": "solana",
}
CLIENT_ALIASES = {
    "go-ethereum": "geth", "heimdalld": "heimdall", "heimdall-v2": "heimdall", "avalanche-go": "avalanchego",
    "agave-validator": "agave", "solana-validator": "agave", "opnode": "op-node", "opgeth": "op-geth",
    "arbitrum-nitro": "nitro", "nitro-node": "nitro", "mevboost": "mev-boost",
}
NETWORK_ALIASES = {
    "mainnet": "mainnet", "prod": "mainnet", "production": "mainnet", "mainnet-beta": "mainnet",
    "testnet": "testnet", "test": "testnet", "sepolia": "testnet", "goerli": "testnet", "holesky": "testnet",
    "hoodi": "testnet", "amoy": "testnet", "mumbai": "testnet", "fuji": "testnet", "chapel": "testnet",
    "devnet": "testnet", "rinkeby": "testnet", "ropsten": "testnet", "local": "local", "localnet": "local",
}
# Network names that also say which chain (the catalog adds arb-sepolia, op-mainnet, base-sepolia...).
NETWORK_CHAINS = {"fuji": "avalanche", "chapel": "bsc", "amoy": "polygon", "mumbai": "polygon", "mainnet-beta": "solana"}
ROLE_WORDS = {
    "backup": {"backup", "backups", "bak", "bkp", "old", "archive", "archives", "copy", "orig", "snapshot-backup"},
    "logs": {"log", "logs"},
    "junk": {"tmp", "temp", "trash", "junk"},
    "script": {"scripts", "script", "bin"},
    "keys": {"keys", "keystore", "keystores", "secrets", "wallet", "wallets", "validator-keys"},
    "mev": {"mev", "bot", "bots", "searcher", "searchers", "arb", "arbitrage", "sandwich", "liquidator", "liquidation",
            "liquidations", "backrun", "backrunner", "flashbots", "jit", "sniper", "mempool", "frontrun", "atomic"},
    "config": {"config", "configs", "conf", "etc", "cfg", "settings"},
    "source": {"src", "source", "sources", "repo", "repos"},
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def tokens(name: str) -> list[str]:
    """Lowercase word tokens of a file name (extensions and separators split, CamelCase split)."""
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return [t for t in _SPLIT.split(_CAMEL.sub("-", name).lower()) if t]


def slug(name: str) -> str:
    """A directory name fit for the standardized tree: lowercase, '-' separated."""
    return "-".join(tokens(name)) or "unnamed"


def grams(words: list[str], longest: int = 3) -> list[str]:
    """Joined n-grams, longest first: ['op', 'geth'] → ['op-geth', 'op', 'geth']."""
    out = []
    for n in range(min(longest, len(words)), 0, -1):
        out += ["-".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    return out


@dataclass(frozen=True)
class Hints:
    """What names (and contents) say about one path; None means 'not said'."""

    chain: str | None = None
    client: str | None = None
    network: str | None = None
    roles: frozenset[str] = frozenset()
    evidence: tuple[str, ...] = ()

    def over(self, outer: "Hints") -> "Hints":
        """These hints, falling back to ``outer`` (an ancestor) for what they do not say."""
        chain, client = self.chain, self.client
        if chain is None:
            chain = outer.chain
            client = client or (outer.client if outer.chain == chain else None)
        elif client is None and outer.chain == chain:
            client = outer.client
        return Hints(chain, client, self.network or outer.network, self.roles | outer.roles,
                     outer.evidence + self.evidence)

    def with_roles(self, *roles: str) -> "Hints":
        return replace(self, roles=self.roles | frozenset(roles))

    @property
    def says_node(self) -> bool:
        return self.chain is not None or self.client is not None


@dataclass
class NameIndex:
    """Alias tables built from the catalog."""

    chains: dict[str, str] = field(default_factory=dict)                  # alias → chain
    clients: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # alias → [(chain, client)]
    networks: dict[str, str] = field(default_factory=dict)                # alias → network key
    network_chain: dict[str, str] = field(default_factory=dict)           # network alias → chain
    binaries: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # binary → [(chain, client)]
    catalog: dict[str, "Chain"] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, catalog: dict[str, "Chain"]) -> "NameIndex":
        idx = cls(catalog=catalog)
        idx.networks.update(NETWORK_ALIASES)
        idx.network_chain.update(NETWORK_CHAINS)
        for name, chain in catalog.items():
            idx.chains[name] = name
            for key, net in chain.networks.items():
                if key == "local":
                    continue
                idx.networks.setdefault(net.name, key)
                if net.name not in NETWORK_ALIASES:  # arb-sepolia, op-mainnet, base-sepolia, arbitrum-one
                    idx.network_chain[net.name] = name
            for cname, client in chain.clients.items():
                if client.role == "devnet":
                    continue
                idx.clients.setdefault(cname, []).append((name, cname))
                idx.binaries.setdefault(client.binary, []).append((name, cname))
        for alias, chain in CHAIN_ALIASES.items():
            if chain in catalog:
                idx.chains.setdefault(alias, chain)
        for alias, client in CLIENT_ALIASES.items():
            if client in idx.clients:
                idx.clients.setdefault(alias, idx.clients[client])
        return idx

    # -- resolution ---------------------------------------------------------------------------
    def client_in(self, chain: str, word: str) -> str | None:
        """The client of ``chain`` a word names: by name, binary, alias or '-suffix' (reth → op-reth)."""
        clients = self.catalog[chain].clients
        word = CLIENT_ALIASES.get(word, word)
        for how in ("name", "binary", "suffix"):
            for cname, client in clients.items():
                if client.role == "devnet":
                    continue
                if (how == "name" and cname == word) or (how == "binary" and client.binary == word) \
                        or (how == "suffix" and f"-{word}-" in f"-{cname}-"):
                    return cname
        return None

    def resolve(self, chain: str | None, client_word: str | None) -> tuple[str | None, str | None]:
        """(chain, client) from a chain hint and a client word; the word alone picks its home chain."""
        if client_word is None:
            return chain, None
        if chain is not None:
            return chain, self.client_in(chain, client_word)
        owners = self.clients.get(client_word) or self.binaries.get(client_word) or []
        if len(owners) == 1:
            return owners[0]
        named = [o for o in owners if o[1] == CLIENT_ALIASES.get(client_word, client_word)]
        return named[0] if len(named) == 1 else (None, None)

    def hints(self, name: str) -> Hints:
        """Hints from one path component."""
        words = tokens(name)
        chain = client_word = network = None
        roles: set[str] = set()
        used: set[int] = set()
        spans = []
        for n in range(min(3, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                spans.append((i, n, "-".join(words[i:i + n])))
        for i, n, gram in spans:
            span = set(range(i, i + n))
            if span & used:
                continue
            hit = False
            if gram in self.networks and network is None:
                network, hit = self.networks[gram], True
                chain = chain or self.network_chain.get(gram)
            if gram in self.clients or gram in self.binaries or gram in CLIENT_ALIASES:
                client_word, hit = client_word or gram, True
            if gram in self.chains:
                chain, hit = chain or self.chains[gram], True
            for role, words_ in ROLE_WORDS.items():
                if gram in words_:
                    roles.add(role)
                    hit = True
            if hit and n > 1:
                used |= span
        chain, client = self.resolve(chain, client_word)
        if chain is None and client is None and client_word and client_word in self.chains:
            chain = self.chains[client_word]
        if client is not None:
            roles.discard("mev")  # mev-boost is a node client, not a bot
        evidence = (f"name {name!r}",) if (chain or client or network or roles) else ()
        return Hints(chain, client, network, frozenset(roles), evidence)
