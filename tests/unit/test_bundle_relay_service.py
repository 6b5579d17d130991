"""The devnet relay's JSON-RPC front: signatures, errors, uuid ownership, replacement, time windows.
No node is needed for these (the relay only talks to anvil to simulate and build blocks)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mevops.engine.bundles import requests
from mevops.engine.bundles.auth import FlashbotsAuth

ALICE, BOB = FlashbotsAuth("0x" + "a1" * 32), FlashbotsAuth("0x" + "b0" * 32)


def _raw(nonce: int) -> bytes:
    from eth_account import Account

    tx = {"type": 2, "chainId": 31337, "nonce": nonce, "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "value": 1,
          "data": b"", "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    return bytes(Account.from_key("0x" + "22" * 32).sign_transaction(tx).raw_transaction)


@pytest.fixture
def relay():
    from mevops.engine.bundles.relay.service import DevnetRelay

    r = DevnetRelay("http://127.0.0.1:9", block_time=1)  # never contacted here
    r.head = 10
    yield r
    asyncio.run(r.rpc.close())


def _call(relay, body: bytes, auth: FlashbotsAuth | None = ALICE, header: str | None = None):
    return asyncio.run(relay.handle(body, header if header is not None else auth.header(body) if auth else None))


def test_requests_without_a_valid_signature_are_refused(relay):
    body = requests.send_bundle_body(requests.Bundle((_raw(0),), 11))
    for header in ("", ALICE.header(body + b" "), "0x00:0x00"):
        status, answer = _call(relay, body, header=header)
        assert status == 403 and answer["error"]["code"] == -32600 and "X-Flashbots-Signature" in answer["error"]["message"]
    assert not relay.pool.by_hash


def test_errors_are_json_rpc_errors(relay):
    status, answer = _call(relay, requests.body("eth_sendRawTransaction", ["0x00"], 3))
    message = "method eth_sendRawTransaction is not offered by this relay"
    assert status == 200 and answer == {"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": message}}
    status, answer = _call(relay, requests.body("eth_sendBundle", [{"txs": ["0x02"], "blockNumber": "0xb"}], 4))
    assert answer["error"]["code"] == -32602 and answer["error"]["message"].startswith("txs[0]: not a signed transaction")
    status, answer = _call(relay, requests.send_bundle_body(requests.Bundle((_raw(0),), 10)))
    assert answer["error"]["code"] == -32000 and "already built" in answer["error"]["message"]
    status, answer = _call(relay, b"[1, 2]")
    assert status == 400 and "batches" in answer["error"]["message"]
    status, answer = _call(relay, b"{not json")
    assert status == 400 and answer["error"]["code"] == -32700


def test_send_answers_the_bundle_hash(relay):
    bundle = requests.Bundle((_raw(0), _raw(1)), 12)
    status, answer = _call(relay, requests.send_bundle_body(bundle, 9))
    assert status == 200 and answer == {"jsonrpc": "2.0", "id": 9, "result": {"bundleHash": bundle.hash}}
    (stored,) = relay.pool.pending[12]
    assert stored.signer == ALICE.address and [t.nonce for t in stored.txs] == [0, 1]


def test_a_uuid_belongs_to_its_signer(relay):
    first = requests.Bundle((_raw(0),), 12, replacement_uuid="u")
    second = requests.Bundle((_raw(1),), 12, replacement_uuid="u")
    bobs = requests.Bundle((_raw(2),), 12, replacement_uuid="u")
    _call(relay, requests.send_bundle_body(first))
    _call(relay, requests.send_bundle_body(bobs), BOB)
    _call(relay, requests.send_bundle_body(second))                      # replaces Alice's first, not Bob's
    status = {h: [s.status for s in copies] for h, copies in relay.pool.by_hash.items()}
    assert status == {first.hash: ["replaced"], bobs.hash: ["pending"], second.hash: ["pending"]}
    assert _call(relay, requests.cancel_bundle_body("u"), BOB)[1]["result"] is True      # Bob cancels his own only
    assert [s.status for s in relay.pool.by_hash[second.hash]] == ["pending"]
    assert _call(relay, requests.cancel_bundle_body("u"), BOB)[1]["result"] is False
    assert _call(relay, requests.cancel_bundle_body("u"))[1]["result"] is True
    assert [s.bundle.hash for s in relay.pool.pending[12]] == []


def test_status_lists_each_target_block(relay):
    raw = _raw(0)
    for block in (11, 12):
        _call(relay, requests.send_bundle_body(requests.Bundle((raw,), block, replacement_uuid=f"u{block}")))
    _call(relay, requests.cancel_bundle_body("u12"))
    bundle_hash = requests.Bundle((raw,), 0).hash
    answer = _call(relay, requests.body("mevops_bundleStatus", [bundle_hash]))[1]["result"]
    assert [(b["blockNumber"], b["status"]) for b in answer["blocks"]] == [("0xb", "pending"), ("0xc", "cancelled")]


def test_time_windows_and_passed_blocks_expire_bundles(relay):
    early = requests.Bundle((_raw(0),), 11, min_timestamp=2_000)
    late = requests.Bundle((_raw(1),), 11, max_timestamp=1_000)
    fine = requests.Bundle((_raw(2),), 11, min_timestamp=1_000, max_timestamp=2_000)
    missed = requests.Bundle((_raw(3),), 12)
    for b in (early, late, fine, missed):
        _call(relay, requests.send_bundle_body(b))
    assert [s.bundle for s in relay.pool.due(11, 1_500)] == [fine]
    assert [s.status for s in relay.pool.by_hash[early.hash] + relay.pool.by_hash[late.hash]] == ["expired", "expired"]
    relay.pool.expire(12)
    assert relay.pool.by_hash[missed.hash][0].status == "expired" and not relay.pool.pending


def test_call_bundle_result_shape():
    """Flashbots' eth_callBundle answer, from a simulation (amounts as decimal strings, gasUsed a number)."""
    from mevops.engine.bundles.relay.simulation import BundleSimulation, TxOutcome
    from mevops.engine.bundles.relay.txcodec import decode_tx

    tx = decode_tx(_raw(0))
    sim = BundleSimulation(12, base_fee=7, outcomes=[TxOutcome(tx, True, 21000, gas_fees=21000 * 10**9, to_coinbase=5)])
    answer = sim.as_json("0xabc", 11)
    assert answer == {"bundleHash": "0xabc", "bundleGasPrice": str((21000 * 10**9 + 5) // 21000),
                      "coinbaseDiff": str(21000 * 10**9 + 5), "ethSentToCoinbase": "5", "gasFees": str(21000 * 10**9),
                      "results": [{"txHash": tx.hash, "fromAddress": tx.sender, "toAddress": tx.to, "gasUsed": 21000,
                                   "gasPrice": str(10**9), "gasFees": str(21000 * 10**9), "ethSentToCoinbase": "5",
                                   "coinbaseDiff": str(21000 * 10**9 + 5), "value": "0x"}],
                      "stateBlockNumber": 11, "totalGasUsed": 21000}
    json.dumps(answer)
    reverted = BundleSimulation(12, outcomes=[TxOutcome(tx, False, 30000, "unprofitable")])
    assert reverted.failure() == f"tx {tx.hash} reverts: unprofitable" and reverted.failure({tx.hash}) == ""
    assert reverted.as_json("0x", 11)["results"][0]["revert"] == "unprofitable"


# -- the command line and the client's manners ----------------------------------------------------------------
def test_relay_command_bad_input_is_one_line_and_exit_2(run, tmp_path):
    result = run("relay", "--coinbase", "0x1234", cwd=tmp_path)
    assert result.code == 2 and result.err.strip() == "error: --coinbase: coinbase: not a 0x-prefixed 20-byte hex address"
    result = run("relay", "--rpc", "http://127.0.0.1:9", "--port", "0", cwd=tmp_path)   # nothing listens on port 9
    assert result.code == 2 and "cannot reach the node" in result.err and "Traceback" not in result.err


def test_relay_names_and_errors_never_show_credentials():
    from mevops.engine.bundles.client import RelayClient, relay_name

    url = "https://searcher:s3cret@relay.example:8443/rpc?apikey=k3y"
    assert relay_name(url) == "relay.example:8443"
    reply = asyncio.run(_post_and_close(RelayClient("http://user:s3cret@127.0.0.1:9/?apikey=k3y", timeout=1)))
    assert not reply.ok and reply.code is None
    assert "s3cret" not in reply.error + reply.relay and "k3y" not in reply.error + reply.relay


async def _post_and_close(client):
    try:
        return await client.post(b"{}", "0x0:0x0")
    finally:
        await client.close()


def test_the_reputation_key_must_not_be_the_trading_key():
    from mevops.engine.bundles.client import Relays
    from mevops.engine.bundles.executor import BundleExecutor
    from mevops.engine.chain.signer import Signer
    from mevops.errors import MevopsError

    key = "0x" + "a1" * 32
    relays = Relays(["http://127.0.0.1:9"], FlashbotsAuth(key))
    try:
        with pytest.raises(MevopsError) as exc:
            BundleExecutor(None, Signer(key, "test"), "0x" + "ee" * 20, 1, relays, weth="0x" + "aa" * 20)
        assert "must not be the trading key" in str(exc.value) and key[2:] not in str(exc.value)
        with pytest.raises(ValueError):   # a bribe with no way to price it in wei
            BundleExecutor(None, Signer("0x" + "a2" * 32, "test"), "0x" + "ee" * 20, 1, relays)
    finally:
        asyncio.run(relays.close())
