"""Rewriting paths inside moved files: exact path boundaries, compose relative paths made absolute."""

from __future__ import annotations

from mevops.migrate.rewrite import PathMap, rewrite_bytes, rewrite_text

SRC = "/data/blockchain/nodes"
PATHS = PathMap(sorted([(f"{SRC}/geth-mainnet/data", "/srv/nodes/chains/ethereum/data/mainnet/geth"),
                        (f"{SRC}/geth-mainnet/.env", "/srv/nodes/chains/ethereum/config/geth-mainnet/.env"),
                        (f"{SRC}/geth mainnet copy", "/srv/nodes/chains/ethereum/backups/x")],
                       key=lambda p: -len(p[0])), (SRC,))


def test_absolute_paths_at_boundaries_only():
    text = (f"--datadir {SRC}/geth-mainnet/data --keystore={SRC}/geth-mainnet/data/keystore\n"
            f"other {SRC}/geth-mainnet/data2 /mnt{SRC}/geth-mainnet/data \"{SRC}/geth mainnet copy\"\n")
    out = rewrite_text(text, PATHS, f"{SRC}/geth-mainnet", "script")
    assert "--datadir /srv/nodes/chains/ethereum/data/mainnet/geth " in out
    assert "--keystore=/srv/nodes/chains/ethereum/data/mainnet/geth/keystore" in out
    assert f"{SRC}/geth-mainnet/data2" in out            # a different name that starts the same
    assert f"/mnt{SRC}/geth-mainnet/data" in out         # not a path under the source
    assert '"/srv/nodes/chains/ethereum/backups/x"' in out  # names with spaces


def test_compose_relative_paths_become_absolute():
    compose = ("services:\n  geth:\n    image: ethereum/client-go\n    env_file: .env\n"
               "    volumes:\n      - ./data:/root/.ethereum\n      - ./unmoved:/x:ro\n      - /etc/hosts:/etc/hosts\n")
    out = rewrite_text(compose, PATHS, f"{SRC}/geth-mainnet", "compose")
    assert "- /srv/nodes/chains/ethereum/data/mainnet/geth:/root/.ethereum" in out
    assert "env_file: /srv/nodes/chains/ethereum/config/geth-mainnet/.env" in out
    assert f"- {SRC}/geth-mainnet/unmoved:/x:ro" in out  # stays where it is: now reached by its absolute path
    assert "- /etc/hosts:/etc/hosts" in out


def test_binary_and_unchanged_files():
    assert rewrite_bytes(b"\x00\x01binary" + SRC.encode(), PATHS, SRC, "config") is None
    assert rewrite_bytes(b"nothing to see", PATHS, SRC, "config") == b"nothing to see"
