"""`mevops demo` end to end on a real anvil: every reported trade is a mined, successful
transaction and the executor's WETH balance rose by exactly the reported profit."""

from __future__ import annotations

import json
import urllib.request

WETH_INVENTORY = 50 * 10**18


def rpc(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["result"]


def test_demo_json_against_a_given_node(run, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    result = run("demo", "--rpc", url, "--blocks", "8", "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert set(summary) >= {"chain_id", "rpc", "searcher", "executor", "profit_token", "opportunities", "realized_profit_wei", "trades"}
    assert summary["chain_id"] == 31337 and summary["rpc"] == url
    assert summary["trades"], "a random market with two fee tiers always offers arbitrage"
    for trade in summary["trades"]:
        receipt = rpc(url, "eth_getTransactionReceipt", [trade["tx_hash"]])
        assert receipt["status"] == "0x1" and int(receipt["blockNumber"], 16) == trade["block"]
        assert int(receipt["gasUsed"], 16) == trade["gas_used"] and trade["profit_wei"] > 0
    selector = "70a08231" + summary["executor"][2:].lower().rjust(64, "0")
    balance = int(rpc(url, "eth_call", [{"to": summary["profit_token"], "data": "0x" + selector}, "latest"]), 16)
    assert balance - WETH_INVENTORY == summary["realized_profit_wei"] == sum(t["profit_wei"] for t in summary["trades"])
    assert "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"[2:] not in result.out + result.err


def test_demo_starts_and_stops_its_own_node_outside_a_workspace(run, tmp_path, anvil_binary):
    result = run("demo", "--blocks", "4", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "arbitrage trades landed" in result.out and "checked on chain" in result.out
    assert list(tmp_path.iterdir()) == []
    import socket

    with socket.socket() as s:  # the lifecycle-started anvil is gone
        assert s.connect_ex(("127.0.0.1", 28545)) != 0
