from collections import defaultdict

import pytest

from mevops.catalog import load_catalog, load_chain
from mevops.errors import MevopsError
from tests.conftest import REPO

CHAINS = {"ethereum", "arbitrum", "optimism", "base", "polygon", "bsc", "avalanche", "solana"}
RESERVED = {3000, 5432, 6379, 8080, 9090, 9093, 9094, 9100}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(REPO / "chains")


def test_all_eight_chains(catalog):
    assert set(catalog) == CHAINS
    for chain in catalog.values():
        assert set(chain.networks) == {"mainnet", "testnet", "local"}, chain.name


def test_two_client_chains_are_wired(catalog):
    assert set(catalog["ethereum"].clients_for("mainnet")) == {"execution", "consensus", "mev"}
    for name in ("optimism", "base", "polygon"):
        roles = catalog[name].clients_for("mainnet")
        assert set(roles) >= {"execution", "consensus"}, name
        consensus = catalog[name].clients[roles["consensus"]]
        assert "execution" in consensus.requires
    eth_clients = {n for n, c in catalog["ethereum"].clients.items() if c.role == "execution"}
    assert eth_clients >= {"geth", "erigon", "reth", "nethermind", "besu"}


def test_local_networks_run_side_by_side(catalog):
    ids = [c.networks["local"].chain_id for c in catalog.values() if c.family == "evm"]
    assert len(ids) == 7 and len(set(ids)) == 7
    for chain in catalog.values():
        if chain.family == "evm":
            devnet = chain.clients[chain.clients_for("local")["devnet"]]
            assert devnet.binary == "anvil"
            assert devnet.install.source == "npm" and devnet.install.package == "@foundry-rs/anvil-linux-amd64"
            release = devnet.install.releases[devnet.install.default_version]
            assert len(release.sha256) == 64 and release.member == "package/bin/anvil"


def _owners(catalog, selected=None):
    owners = defaultdict(list)
    for chain in catalog.values():
        for network in chain.networks:
            for (client, port_name), port in chain.host_ports(network, (selected or {}).get(chain.name)).items():
                owners[port].append(f"{chain.name}/{network}/{client}.{port_name}")
    return owners


def test_every_chain_and_network_side_by_side_without_port_collisions(catalog):
    owners = _owners(catalog)
    clashes = {port: users for port, users in owners.items() if len(users) > 1}
    assert not clashes
    assert not RESERVED & set(owners), "a node port would collide with the monitoring/engine stack"


@pytest.mark.parametrize("client", ["erigon", "reth", "nethermind", "besu"])
def test_alternative_ethereum_clients_fit_too(catalog, client):
    owners = _owners(catalog, {"ethereum": {"execution": client}})
    assert not {port: users for port, users in owners.items() if len(users) > 1}


def test_clients_are_complete(catalog):
    for chain in catalog.values():
        for name, client in chain.clients.items():
            assert client.image and client.binary and client.ports, f"{chain.name}.{name}"
            if client.role in ("execution", "consensus") and chain.family == "evm":
                assert client.resources is not None, f"{chain.name}.{name} needs resources for kubernetes"
        assert "USDC" in chain.assets, chain.name


def test_long_stop_grace_for_databases(catalog):
    assert catalog["ethereum"].clients["geth"].stop_grace_period >= 180
    assert catalog["arbitrum"].clients["nitro"].stop_grace_period >= 180


def test_schema_errors_are_located(tmp_path):
    source = (REPO / "chains/bsc.yml").read_text()
    bad = tmp_path / "bsc.yml"
    bad.write_text(source.replace("family: evm", "family: cosmos", 1))
    with pytest.raises(MevopsError) as info:
        load_chain(bad)
    line = source.splitlines().index("family: evm") + 1
    assert str(info.value.problems[0]).endswith(f"bsc.yml:{line}: family: Input should be 'evm' or 'solana', got 'cosmos'")
    renamed = tmp_path / "binance.yml"
    renamed.write_text(source)
    with pytest.raises(MevopsError, match="must match the file name"):
        load_chain(renamed)
