"""The hot path's hand-rolled encoders produce exactly the bytes of the generic libraries."""

from __future__ import annotations

import random

import pytest

from mevops.contracts.transactions import encode_call
from mevops.engine.executors.arb_call import execute_calldata
from mevops.engine.types import ArbTrade, Hop

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's public dev key #1


def _address(rng: random.Random) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(bytes(rng.randrange(256) for _ in range(20)))


def test_execute_calldata_is_eth_abis_encoding():
    rng = random.Random(11)
    for _ in range(300):
        hops = tuple(Hop(_address(rng), _address(rng), _address(rng), rng.random() < 0.5, rng.randrange(10_000))
                     for _ in range(rng.randint(1, 4)))
        trade = ArbTrade("s", "c", _address(rng), hops, rng.randrange(2**256), 0, 0, 0, min_profit=rng.randrange(2**256),
                         gas_limit=1, max_fee_per_gas=1, max_priority_fee_per_gas=1, block=0)
        want = encode_call("ArbExecutor", "execute", [h.pool for h in hops], [h.zero_for_one for h in hops],
                           [h.fee_bps for h in hops], trade.amount_in, trade.token, trade.min_profit)
        assert execute_calldata(trade) == want


def test_fast_eip1559_signatures_are_eth_accounts_bytes():
    pytest.importorskip("coincurve")
    from eth_account import Account

    from mevops.engine.chain.signer import Signer

    signer, account = Signer(KEY, "test"), Account.from_key(KEY)
    assert signer._fast is not None
    rng = random.Random(5)
    for _ in range(200):
        tx = {"type": 2, "chainId": rng.choice([1, 10, 31337, 2**40]), "nonce": rng.choice([0, 1, 127, 128, 2**20]),
              "to": _address(rng), "value": rng.choice([0, 1, 10**18, 2**200]),
              "data": bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 55, 56, 484, 70_000]))),
              "gas": rng.randrange(21_000, 30_000_000), "maxFeePerGas": rng.randrange(1, 10**13),
              "maxPriorityFeePerGas": rng.randrange(0, 10**11)}
        signed = account.sign_transaction(tx)
        assert signer.sign(tx) == (bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex())


def test_transactions_the_fast_path_does_not_cover_go_to_eth_account():
    pytest.importorskip("coincurve")
    from eth_account import Account

    from mevops.engine.chain.eip1559 import Eip1559Signer
    from mevops.engine.chain.signer import Signer

    tx = {"type": 2, "chainId": 1, "nonce": 0, "to": "0x" + "11" * 20, "value": 0, "data": b"", "gas": 21_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
          "accessList": [{"address": "0x" + "22" * 20, "storageKeys": ["0x" + "00" * 32]}]}
    assert not Eip1559Signer.supports(tx) and not Eip1559Signer.supports({**tx, "accessList": [], "type": 0})
    signed = Account.from_key(KEY).sign_transaction(tx)
    assert Signer(KEY, "test").sign(tx)[0] == bytes(signed.raw_transaction)
    assert KEY[2:] not in repr(Eip1559Signer(bytes.fromhex(KEY[2:])))
