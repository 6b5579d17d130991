"""Request shapes (Flashbots docs: docs.flashbots.net/flashbots-auction/advanced/rpc-endpoint), their
parsing on the relay side, the coinbase-payment calldata, bribe sizing and transaction decoding."""

from __future__ import annotations

import json

import pytest

from mevops.engine.bundles import requests
from mevops.engine.bundles.requests import BadParams, Bundle

RAW_A, RAW_B = bytes.fromhex("02f86c0a"), bytes.fromhex("02f86c0b")


def _params(body: bytes) -> dict:
    request = json.loads(body)
    assert request["jsonrpc"] == "2.0" and isinstance(request["id"], int)
    (params,) = request["params"]
    return request["method"], params


def test_send_bundle_has_exactly_the_documented_fields():
    bundle = Bundle((RAW_A, RAW_B), 0xB63DCD, min_timestamp=1_615_920_000, max_timestamp=1_615_920_932,
                    reverting_tx_hashes=("0x" + "ab" * 32,), replacement_uuid="5a1c6e2e-7f3a-4e7e-9d3c-2b2f6f1e8a10",
                    builders=("flashbots",))
    method, params = _params(requests.send_bundle_body(bundle))
    assert method == "eth_sendBundle"
    assert params == {"txs": ["0x02f86c0a", "0x02f86c0b"], "blockNumber": "0xb63dcd", "minTimestamp": 1_615_920_000,
                      "maxTimestamp": 1_615_920_932, "revertingTxHashes": ["0x" + "ab" * 32],
                      "replacementUuid": "5a1c6e2e-7f3a-4e7e-9d3c-2b2f6f1e8a10", "builders": ["flashbots"]}


def test_optional_fields_are_left_out_and_the_body_is_compact():
    body = requests.send_bundle_body(Bundle((RAW_A,), 16), request_id=7)
    assert body == b'{"jsonrpc":"2.0","id":7,"method":"eth_sendBundle","params":[{"txs":["0x02f86c0a"],"blockNumber":"0x10"}]}'


def test_cancel_and_call_bundle_shapes():
    assert _params(requests.cancel_bundle_body("u-1")) == ("eth_cancelBundle", {"replacementUuid": "u-1"})
    method, params = _params(requests.call_bundle_body([RAW_A], 17, "latest", 1_700_000_000))
    assert (method, params) == ("eth_callBundle", {"txs": ["0x02f86c0a"], "blockNumber": "0x11", "stateBlockNumber": "latest",
                                                   "timestamp": 1_700_000_000})
    assert _params(requests.call_bundle_body([RAW_A], 17, 16))[1]["stateBlockNumber"] == "0x10"


def test_bundle_hash_is_keccak_of_the_transaction_hashes():
    from eth_utils import keccak

    bundle = Bundle((RAW_A, RAW_B), 1)
    assert bundle.tx_hashes == ("0x" + keccak(RAW_A).hex(), "0x" + keccak(RAW_B).hex())
    assert bundle.hash == "0x" + keccak(keccak(RAW_A) + keccak(RAW_B)).hex()


def test_per_block_uuids_are_stable_and_distinct():
    base = "5a1c6e2e-7f3a-4e7e-9d3c-2b2f6f1e8a10"
    assert requests.block_uuid(base, 10) == requests.block_uuid(base, 10) != requests.block_uuid(base, 11)
    assert requests.block_uuid(base, 10) != requests.block_uuid("6a1c6e2e-7f3a-4e7e-9d3c-2b2f6f1e8a10", 10)


def test_parse_is_the_inverse_of_build():
    bundle = Bundle((RAW_A, RAW_B), 99, 5, 6, ("0x" + "cd" * 32,), "u", ("b1",))
    assert requests.parse_send_bundle([bundle.params()]) == bundle
    call = requests.parse_call_bundle(json.loads(requests.call_bundle_body([RAW_A], 5, 4, 9))["params"])
    assert (call.txs, call.block, call.state_block, call.timestamp) == ((RAW_A,), 5, 4, 9)


@pytest.mark.parametrize("params, key", [
    ([{"blockNumber": "0x1"}], "txs"),
    ([{"txs": [], "blockNumber": "0x1"}], "txs"),
    ([{"txs": ["02f8"], "blockNumber": "0x1"}], "txs[0]"),
    ([{"txs": ["0xzz"], "blockNumber": "0x1"}], "txs[0]"),
    ([{"txs": ["0x02"]}], "blockNumber"),
    ([{"txs": ["0x02"], "blockNumber": 5}], "blockNumber"),
    ([{"txs": ["0x02"], "blockNumber": "0x1", "minTimestamp": "0x5"}], "minTimestamp"),
    ([{"txs": ["0x02"], "blockNumber": "0x1", "minTimestamp": 9, "maxTimestamp": 8}], "minTimestamp"),
    ([{"txs": ["0x02"], "blockNumber": "0x1", "revertingTxHashes": ["0x12"]}], "revertingTxHashes"),
    ([{"txs": ["0x02"], "blockNumber": "0x1", "replacementUuid": 5}], "replacementUuid"),
    ([{"txs": ["0x02"] * 101, "blockNumber": "0x1"}], "txs"),
    ([], "params"),
])
def test_bad_send_bundle_params_name_the_key(params, key):
    with pytest.raises(BadParams) as exc:
        requests.parse_send_bundle(params)
    assert exc.value.key == key


def test_zero_timestamps_mean_no_bound():
    assert requests.parse_send_bundle([{"txs": ["0x02"], "blockNumber": "0x1", "minTimestamp": 0, "maxTimestamp": 0}]) \
        == Bundle((b"\x02",), 1)


# -- coinbase payment calldata and bribes ------------------------------------------------------------------
def _trade(**kw):
    from mevops.engine.types import ArbTrade, Hop

    hops = (Hop("0x" + "11" * 20, "0x" + "aa" * 20, "0x" + "bb" * 20, True, 30),
            Hop("0x" + "22" * 20, "0x" + "bb" * 20, "0x" + "aa" * 20, False, 25))
    base = {"strategy": "s", "chain": "ethereum", "token": "0x" + "aa" * 20, "hops": hops, "amount_in": 10**18,
            "expected_out": 10**18 + 5 * 10**15, "expected_profit": 5 * 10**15, "gas_cost": 10**15, "min_profit": 10**15 + 1,
            "gas_limit": 300_000, "max_fee_per_gas": 2 * 10**9, "max_priority_fee_per_gas": 10**9, "block": 1}
    return ArbTrade(**{**base, **kw})


def test_coinbase_calldata_matches_the_abi_encoder():
    from eth_abi import encode

    from mevops.contracts.coinbase_executor import artifact, selector
    from mevops.engine.bundles.bribe import coinbase_calldata

    trade = _trade()
    (fn,) = [i for i in artifact()["abi"] if i.get("name") == "execute" and len(i["inputs"]) == 7]
    expected = selector("execute", 7) + encode([i["type"] for i in fn["inputs"]], [
        [h.pool for h in trade.hops], [h.zero_for_one for h in trade.hops], [h.fee_bps for h in trade.hops],
        trade.amount_in, trade.token, trade.min_profit, 123_456])
    assert coinbase_calldata(trade, 123_456) == expected


def test_the_six_argument_execute_is_arb_executors():
    """CoinbaseArbExecutor is a drop-in for ArbExecutor: MempoolExecutor's calldata works on it."""
    from mevops.contracts.coinbase_executor import selector
    from mevops.contracts.transactions import _function

    assert selector("execute", 6) == _function("ArbExecutor", "execute")[0]


def test_the_committed_artifact_is_built_from_the_source():
    from mevops.contracts.coinbase_executor import stale

    assert not stale(), "run: python -m mevops.contracts.coinbase_executor"


def test_bribe_is_the_share_of_net_profit_in_wei():
    from mevops.engine.bundles.bribe import BribePolicy, same_token

    to_wei = same_token("0x" + "AA" * 20)
    assert BribePolicy("coinbase", 5_000).amount(_trade(), to_wei) == (5 * 10**15 - 10**15) // 2
    assert BribePolicy("coinbase", 10_000).amount(_trade(), to_wei) == 4 * 10**15
    assert BribePolicy("priority", 5_000).amount(_trade(expected_profit=10**15), to_wei) == 0   # no net profit, no bribe
    assert BribePolicy.priority_fee(10**15, 100_000, 10**9) == 10**10
    assert BribePolicy.priority_fee(10, 100_000, 10**9) == 10**9                             # never below the floor
    with pytest.raises(ValueError):
        BribePolicy("coinbase", 5_000).amount(_trade(token="0x" + "cc" * 20), to_wei)       # no price for another token
    for bad in ({"mode": "tip"}, {"share_bps": 10_001}, {"share_bps": -1}):
        with pytest.raises(ValueError):
            BribePolicy(**bad)


def test_finding_a_bundle_in_a_block():
    from mevops.engine.bundles.inclusion import find

    block = ["0x01", "0xAA", "0xbb", "0x02"]
    assert find(("0xaa", "0xBB"), block) == (1, True)
    assert find(("0xaa", "0x02"), block) == (1, False)      # split: not what a relay promises
    assert find(("0xcc",), block) is None


# -- transaction decoding (the relay's side) ----------------------------------------------------------------
@pytest.mark.parametrize("tx", [
    {"type": 2, "chainId": 1, "nonce": 3, "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 5, "data": b"\x12",
     "gas": 21000, "maxFeePerGas": 10, "maxPriorityFeePerGas": 1},
    {"chainId": 31337, "nonce": 0, "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 5, "data": b"", "gas": 21000,
     "gasPrice": 10},
    {"nonce": 9, "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 0, "data": b"", "gas": 21000, "gasPrice": 7},
    {"type": 1, "chainId": 5, "nonce": 1, "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 0, "data": b"ab",
     "gas": 30000, "gasPrice": 10, "accessList": [{"address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                                                    "storageKeys": ["0x" + "00" * 31 + "01"]}]},
    {"type": 2, "chainId": 1, "nonce": 0, "value": 0, "data": b"\x60\x00", "gas": 100000, "maxFeePerGas": 10,
     "maxPriorityFeePerGas": 1},
], ids=["1559", "155", "pre-155", "2930", "create"])
def test_decoding_agrees_with_eth_account(tx):
    from eth_account import Account

    from mevops.engine.bundles.relay.txcodec import decode_tx

    account = Account.from_key("0x" + "22" * 32)
    raw = bytes(account.sign_transaction(tx).raw_transaction)
    d = decode_tx(raw)
    assert d.sender == account.address and d.nonce == tx["nonce"] and d.value == tx["value"] and d.data == tx["data"]
    assert d.to == tx.get("to") and d.gas == tx["gas"] and d.chain_id == tx.get("chainId")
    price = tx.get("gasPrice")
    assert (d.max_fee, d.max_priority) == (tx.get("maxFeePerGas", price), tx.get("maxPriorityFeePerGas", price))
    assert d.hash == "0x" + bytes(account.sign_transaction(tx).hash).hex()


@pytest.mark.parametrize("raw", [b"", b"\x03\xc0", b"\x02\xc0", b"\x02\xf8", bytes.fromhex("02c180")])
def test_garbage_is_bad_params(raw):
    from mevops.engine.bundles.relay.txcodec import decode_tx

    with pytest.raises(BadParams):
        decode_tx(raw)


def test_target_bundles_one_per_block_each_with_its_own_uuid():
    from mevops.engine.bundles.executor import target_bundles

    base = "5a1c6e2e-7f3a-4e7e-9d3c-2b2f6f1e8a10"
    bundles = target_bundles((RAW_A,), range(100, 103), base, 1_700_000_000, ("flashbots", "titan"))
    assert [b.block for b in bundles] == [100, 101, 102]
    assert [b.replacement_uuid for b in bundles] == [requests.block_uuid(base, n) for n in (100, 101, 102)]
    assert len({b.replacement_uuid for b in bundles}) == 3
    assert all(b.max_timestamp == 1_700_000_000 and b.builders == ("flashbots", "titan") and b.txs == (RAW_A,) for b in bundles)
