"""A bundle landing: the arbitrage trade is sent as a signed Flashbots-style bundle to the devnet
relay (``mevops relay``'s service, which owns block production: automine off), lands in its first
target block, and pays half the profit (net of gas) to the block builder's coinbase from the contract."""

from __future__ import annotations

from typing import Any

from mevops.engine.scenarios import ScenarioResult, check, checked_receipt

SHARE_BPS = 5_000   # of the profit net of gas, paid to coinbase


async def run(rpc_url: str, **_: Any) -> ScenarioResult:
    from mevops.contracts.coinbase_executor import deploy_coinbase_executor
    from mevops.contracts.devnet import fund
    from mevops.contracts.transactions import connected, encode_call
    from mevops.engine.bundles.auth import FlashbotsAuth
    from mevops.engine.bundles.bribe import BribePolicy
    from mevops.engine.bundles.client import Relays
    from mevops.engine.bundles.executor import BundleExecutor, BundleSettings
    from mevops.engine.bundles.relay.http import RelayServer
    from mevops.engine.bundles.relay.service import DevnetRelay
    from mevops.engine.chain.signer import Signer
    from mevops.engine.collectors.rpc import HttpRpc
    from mevops.engine.demo import DEV_ACCOUNTS, DEV_SEARCHER_KEY, WETH_INVENTORY, DemoState, read_reserves, setup_market
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy
    from mevops.engine.types import NewBlock

    state, signer = DemoState(), Signer(DEV_SEARCHER_KEY, "anvil dev account #1")
    market, _ = await setup_market(rpc_url, state, signer)
    async with connected(rpc_url) as w3:
        executor = await deploy_coinbase_executor(w3, signer.local_account(), market.weth)
        await fund(w3, market.weth, executor, WETH_INVENTORY, sender=DEV_ACCOUNTS[0])
    rpc = HttpRpc(rpc_url)
    server = bundles = None
    try:
        # the dislocation (automine still on): 20 WETH sold into dex 0's WETH/USDC pool
        pair = market.pair("WETH", "USDC", 0)
        swap = encode_call("UniswapV2Router", "swapExactTokensForTokens", 20 * 10**18, 0,
                           [market.weth, market.address("USDC")], DEV_ACCOUNTS[2], 2**63)
        await rpc.call("eth_sendTransaction", [{"from": DEV_ACCOUNTS[2], "to": market.routers[pair.dex],
                                                "data": "0x" + swap.hex(), "gas": hex(300_000)}])
        reserves = await read_reserves(rpc, market.pairs)
        pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps) for p in market.pairs]
        weth = market.weth.lower()
        strategy = ArbStrategy("bundle-arb", pools, ArbSettings("ethereum", [weth], weth, max_input={weth: WETH_INVENTORY}))
        strategy.sync_state({"reserves": reserves})
        head = await rpc.call("eth_getBlockByNumber", ["latest", False])
        trades = strategy.process_event(NewBlock(int(head["number"], 16), head["hash"], int(head["timestamp"], 16),
                                                 int(head["baseFeePerGas"], 16)))
        check(bool(trades), "the dislocated market offered no arbitrage")
        trade = trades[0]

        server = RelayServer(DevnetRelay(rpc_url, block_time=0.5))   # takes over block production: automine off
        await server.start(autobuild=False)
        check(await rpc.call("anvil_getAutomine") is False, "the relay did not take over block production")
        finals: list = []
        bundles = BundleExecutor(rpc, signer, executor, state.chain_id, Relays([server.url], FlashbotsAuth.random()),
                                 settings=BundleSettings(blocks_ahead=3, bribe=BribePolicy("coinbase", SHARE_BPS)),
                                 weth=market.weth, on_final=lambda action, result: finals.append(result))
        before = await token_balance_rpc(rpc, market.weth, executor)
        sent = await bundles.execute(trade)
        check(sent.status == "sent", f"the bundle was not accepted: {sent.status} {sent.reason}")
        sub = bundles.submissions[trade.id]
        check(await rpc.call("eth_getTransactionReceipt", [sent.tx_hash]) is None, "the bundle leaked before its block")
        built = await server.relay.build_next()
        await bundles.drain(10)
        check(len(finals) == 1 and finals[0].status == "mined", f"the bundle did not land: {finals}")
        final = finals[0]
        check(built.number == sub.blocks[0] == final.block, f"landed in block {final.block}, target {sub.blocks[0]}")
        block = await rpc.call("eth_getBlockByNumber", [hex(built.number), False])
        check(block["transactions"] == [sent.tx_hash], "the target block does not hold exactly the bundle")
        coinbase = server.relay.coinbase
        paid = (int(await rpc.call("eth_getBalance", [coinbase, hex(built.number)]), 16)
                - int(await rpc.call("eth_getBalance", [coinbase, hex(built.number - 1)]), 16))
        gain = await token_balance_rpc(rpc, market.weth, executor) - before
        bribe = (trade.expected_profit - trade.gas_cost) * SHARE_BPS // 10_000
        check(sub.coinbase_paid == sub.bribe_wei == bribe > 0, f"coinbase bribe {sub.coinbase_paid}, expected {bribe}")
        check(gain == final.realized_profit == trade.expected_profit - bribe > 0,
              f"executor WETH grew by {gain}, reported {final.realized_profit}, predicted {trade.expected_profit - bribe}")
    finally:
        if bundles is not None:
            await bundles.close()
            await bundles.relays.close()
        if server is not None:
            await server.stop()
        await rpc.close()
    async with connected(rpc_url) as w3:
        receipt = await checked_receipt(w3, sent.tx_hash, final.block)
    return ScenarioResult(
        "bundle", f"arbitrage bundle via the devnet relay (automine off): landed in its target block {final.block}, "
                  f"paid coinbase {bribe / 1e18:.6f} ETH",
        sent.tx_hash, final.block, receipt["gasUsed"], gain, "WETH", 18,
        facts={"executor": executor, "token": market.weth, "bundle_uuid": sub.uuid, "target_blocks": list(sub.blocks),
               "coinbase": coinbase, "coinbase_bribe_wei": bribe, "coinbase_received_wei": paid,
               "expected_profit_before_bribe": trade.expected_profit})


async def token_balance_rpc(rpc: Any, token: str, owner: str) -> int:
    from mevops.contracts.transactions import encode_call

    data = "0x" + encode_call("ERC20", "balanceOf", owner).hex()
    return int(await rpc.call("eth_call", [{"to": token, "data": data}, "latest"]), 16)
