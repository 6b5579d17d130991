"""Legacy names → chain, client, network hints (the alias table, backed by the catalog)."""

import pytest

from mevops.migrate.names import NameIndex, slug, tokens
from mevops.migrate.scan import load_index


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return load_index()


@pytest.mark.parametrize("name, chain, client, network", [
    ("geth-mainnet", "ethereum", "geth", "mainnet"),
    ("Arbitrum-Nitro", "arbitrum", "nitro", None),
    ("ArbitrumNitro", "arbitrum", "nitro", None),
    ("op_geth", "optimism", "op-geth", None),
    ("bsc_mainnet", "bsc", "bsc", "mainnet"),
    ("avax", "avalanche", None, None),
    ("fuji-avax", "avalanche", None, "testnet"),
    ("chapel", "bsc", None, "testnet"),
    ("amoy-bor", "polygon", "bor", "testnet"),
    ("erigon-holesky", "ethereum", "erigon", "testnet"),
    ("sepolia", None, None, "testnet"),
    ("goerli", None, None, "testnet"),
    ("devnet", None, None, "testnet"),
    ("arb-sepolia", "arbitrum", None, "testnet"),
    ("op-node", "optimism", "op-node", None),
    ("heimdalld", "polygon", "heimdall", None),
    ("solana-validator", "solana", "agave", None),
    ("mev-boost", "ethereum", "mev-boost", None),
    ("base-reth", "base", "base-reth-node", None),
])
def test_aliases(index, name, chain, client, network):
    hints = index.hints(name)
    assert (hints.chain, hints.client, hints.network) == (chain, client, network)


def test_roles_and_mev_words(index):
    assert "mev" in index.hints("arb-bot-py").roles
    assert "mev" not in index.hints("mev-boost").roles  # a node client, not a bot
    assert "backup" in index.hints("geth mainnet copy").roles
    assert "script" in index.hints("scripts").roles
    assert index.hints("main.rs").network is None  # 'main' is not an alias of mainnet


def test_client_in_chain_context(index):
    assert index.resolve("bsc", "geth") == ("bsc", "bsc")
    assert index.resolve("optimism", "geth") == ("optimism", "op-geth")
    assert index.resolve("optimism", "reth") == ("optimism", "op-reth")
    assert index.resolve(None, "geth") == ("ethereum", "geth")


def test_tokens_and_slug():
    assert tokens("Données Été_2023.tar") == ["donnees", "ete", "2023", "tar"]
    assert slug("Arbitrum-Nitro") == "arbitrum-nitro"
    assert slug("op_geth") == "op-geth"
    assert slug("???") == "unnamed"
