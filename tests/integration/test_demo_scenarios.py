"""`mevops demo --scenario ...`: flash-loan arbitrage, a liquidation and a bundle landing (and the
default arbitrage), each checked again here on the chain the demo ran against."""

from __future__ import annotations

import json
import urllib.request

SCENARIOS = ("arbitrage", "flash", "liquidation", "bundle")


def rpc(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["result"]


def balance(url: str, token: str, owner: str, block: int | str = "latest") -> int:
    data = "0x70a08231" + owner[2:].lower().rjust(64, "0")
    return int(rpc(url, "eth_call", [{"to": token, "data": data}, block if isinstance(block, str) else hex(block)]), 16)


def test_all_scenarios_land_and_check_on_chain(run, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    result = run("demo", "--scenario", "all", "--json", "--no-api", "--rpc", url, "--blocks", "4", cwd=tmp_path)
    assert result.code == 0, result.err
    scenarios = json.loads(result.out)["scenarios"]
    assert list(scenarios) == list(SCENARIOS)
    for name, r in scenarios.items():
        receipt = rpc(url, "eth_getTransactionReceipt", [r["tx_hash"]])
        assert receipt["status"] == "0x1" and int(receipt["blockNumber"], 16) == r["block"], name
        assert int(receipt["gasUsed"], 16) == r["gas_used"] and r["profit"] > 0, name

    arb = scenarios["arbitrage"]
    trades = arb["facts"]["trades"]
    assert arb["profit"] == sum(t["profit_wei"] for t in trades)
    assert balance(url, arb["facts"]["token"], arb["facts"]["executor"]) - 50 * 10**18 == arb["profit"]

    flash = scenarios["flash"]   # zero inventory: the executor holds exactly the profit, the pool got its premium
    assert balance(url, flash["facts"]["token"], flash["facts"]["executor"]) == flash["profit"]
    pool, token, block = flash["facts"]["flash_pool"], flash["facts"]["token"], flash["block"]
    assert balance(url, token, pool, block) - balance(url, token, pool, block - 1) == flash["facts"]["flash_fee"] > 0
    assert balance(url, token, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8") == 0

    liq = scenarios["liquidation"]
    facts = liq["facts"]
    assert balance(url, facts["token"], facts["liquidator"]) == liq["profit"]
    assert facts["health_factor_before"] < 10**18 < facts["health_factor_after"]
    logs = rpc(url, "eth_getLogs", [{"address": facts["lending_market"], "fromBlock": hex(liq["block"]),
                                     "toBlock": hex(liq["block"])}])
    assert any(log["transactionHash"] == liq["tx_hash"] for log in logs)  # the LiquidationCall

    bundle = scenarios["bundle"]
    facts = bundle["facts"]
    block = rpc(url, "eth_getBlockByNumber", [hex(bundle["block"]), False])
    assert block["transactions"] == [bundle["tx_hash"]] and bundle["block"] == facts["target_blocks"][0]
    assert rpc(url, "anvil_getAutomine", []) is False  # the relay built the block
    gain = balance(url, facts["token"], facts["executor"], bundle["block"]) - balance(url, facts["token"], facts["executor"],
                                                                                      bundle["block"] - 1)
    assert gain == bundle["profit"]
    coinbase = block["miner"]
    paid = int(rpc(url, "eth_getBalance", [coinbase, hex(bundle["block"])]), 16) - \
        int(rpc(url, "eth_getBalance", [coinbase, hex(bundle["block"] - 1)]), 16)
    assert paid == facts["coinbase_received_wei"] >= facts["coinbase_bribe_wei"] > 0


def test_a_scenario_on_its_own_fresh_anvil(run, tmp_path, anvil_binary):
    result = run("demo", "--scenario", "flash", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "flash: flash-loan arbitrage" in result.out and "checked on chain" in result.out and "tx 0x" in result.out
    assert list(tmp_path.iterdir()) == []


def test_help_lists_the_scenarios_and_unknown_ones_are_refused(run, tmp_path):
    result = run("demo", "--help", cwd=tmp_path)
    assert result.code == 0
    assert "--scenario" in result.out
    for name in (*SCENARIOS, "all"):
        assert name in result.out
    bad = run("demo", "--scenario", "sandwich", cwd=tmp_path)
    assert bad.code != 0 and "sandwich" not in bad.out


def test_a_failed_on_chain_check_exits_1(run, tmp_path, start_anvil, monkeypatch):
    """The flash executor's USDC balance is read wrong: the check on it fails, the demo exits 1."""
    from mevops.engine.scenarios import flash

    real = flash.token_balance

    async def off_by_one(w3, token, owner):
        return await real(w3, token, owner) + (1 if owner == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" else 0)

    monkeypatch.setattr(flash, "token_balance", off_by_one)
    url, _ = start_anvil(chain_id=31337)
    result = run("demo", "--scenario", "flash", "--json", "--rpc", url, cwd=tmp_path)
    assert result.code == 1 and result.out == ""
    assert "start with no USDC" in result.err
