"""The signer's key comes from an env var, a keystore or the encrypted secrets file, and never shows."""

from __future__ import annotations

import json

import pytest

from mevops.engine.chain.nonce import NonceManager
from mevops.engine.chain.signer import Signer
from mevops.errors import MevopsError

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_from_env_and_never_shown():
    signer = Signer.from_env({"MEVOPS_SIGNER_KEY": KEY})
    assert signer.address == ADDRESS
    assert KEY[2:] not in repr(signer) + str(signer) and ADDRESS in repr(signer)
    assert Signer.from_env({}) is None


def test_from_keystore(tmp_path):
    from eth_account import Account

    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(KEY, "pw", iterations=2)))
    assert Signer.from_keystore(path, "pw").address == ADDRESS
    with pytest.raises(MevopsError, match="wrong password") as info:
        Signer.from_keystore(path, "nope")
    assert KEY[2:] not in str(info.value)


def test_from_encrypted_secrets(tmp_path):
    from mevops.secrets import create_key, write_store

    key, store = tmp_path / "master.key", tmp_path / "api-keys.enc"
    create_key(key)
    write_store(store, key, {"signer_private_key": KEY})
    assert KEY[2:].encode() not in store.read_bytes()
    assert Signer.from_secrets(store, key).address == ADDRESS


def test_bad_key_error_does_not_echo_it():
    with pytest.raises(MevopsError) as info:
        Signer("0x1234deadbeef", "MEVOPS_SIGNER_KEY")
    assert "1234deadbeef" not in str(info.value)


def test_signing_is_eip1559():
    raw, tx_hash = Signer(KEY, "test").sign({"type": 2, "chainId": 1, "nonce": 0, "to": ADDRESS, "value": 0, "data": b"",
                                              "gas": 21000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**9})
    assert raw[0] == 2 and len(tx_hash) == 66


def test_nonces_survive_restarts_and_resync():
    import asyncio

    chain = {"count": 5}

    async def pending(_: str) -> int:
        return chain["count"]

    async def scenario():
        n = NonceManager(ADDRESS, pending, last_used=7)  # the store says nonce 7 was signed before a crash
        got = [await n.take(), await n.take()]
        await n.release(got[1])
        got.append(await n.take())
        chain["count"] = 20
        await n.resync()
        got.append(await n.take())
        return got

    assert asyncio.run(scenario()) == [8, 9, 9, 20]
