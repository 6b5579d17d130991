"""The engine with the in-process simulator: `mevops demo --sim revm` trades a random market, every
trade it reports is a mined, successful transaction, and none it sent was refused by the chain."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytest.importorskip("pyrevm")

WETH_INVENTORY = 50 * 10**18


def rpc(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["result"]


def test_demo_with_the_revm_simulator(run, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    result = run("demo", "--rpc", url, "--blocks", "8", "--sim", "revm", "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["trades"], "a random market with two fee tiers always offers arbitrage"
    for trade in summary["trades"]:
        receipt = rpc(url, "eth_getTransactionReceipt", [trade["tx_hash"]])
        assert receipt["status"] == "0x1" and trade["profit_wei"] > 0
    selector = "70a08231" + summary["executor"][2:].lower().rjust(64, "0")
    balance = int(rpc(url, "eth_call", [{"to": summary["profit_token"], "data": "0x" + selector}, "latest"]), 16)
    assert balance - WETH_INVENTORY == summary["realized_profit_wei"] == sum(t["profit_wei"] for t in summary["trades"])


def test_demo_refuses_an_unknown_simulator(run, tmp_path):
    result = run("demo", "--rpc", "http://127.0.0.1:9", "--sim", "geth", cwd=tmp_path)
    assert result.code != 0
