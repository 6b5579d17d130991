"""kill -9 between signing and sending, then restart against a real anvil: the stored signed bytes
are re-broadcast (same hash) and settled; no second transaction is ever signed for the trade."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from mevops.engine.chain.rpc_pool import RpcPool
from mevops.engine.store import Store, reconcile_pending

# anvil's first well-known development account (public test key, funded on every anvil)
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_restart_after_kill_9_rebroadcasts_the_same_transaction(start_anvil, tmp_path):
    rpc_url, _ = start_anvil(chain_id=31337)
    db_url = f"sqlite:///{tmp_path}/engine.db"
    crash = textwrap.dedent(f"""
        import os, signal
        from eth_account import Account
        from mevops.engine.store import Store
        account = Account.from_key({DEV_KEY!r})
        tx = {{"type": 2, "chainId": 31337, "nonce": 0, "to": "0x" + "11" * 20, "value": 12345, "gas": 21000,
               "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "data": b""}}
        signed = account.sign_transaction(tx)
        store = Store({db_url!r})
        store.migrate()
        store.record_signed_trade("trade-1", 0, "0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction),
                                  chain="ethereum", strategy="arb", sender=account.address, token="0xweth")
        os.kill(os.getpid(), signal.SIGKILL)  # dies before the send
    """)
    run = subprocess.run([sys.executable, "-c", crash], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == -9, run.stderr

    async def restart():
        with Store(db_url) as store:
            store.migrate()
            [pending] = store.pending_trades("ethereum")
            async with RpcPool([rpc_url]) as pool:
                first = await reconcile_pending(store, "ethereum", pool)
                second = await reconcile_pending(store, "ethereum", pool)
                count = int(await pool.request("eth_getTransactionCount", [DEV_ADDRESS, "latest"]), 16)
                onchain = await pool.request("eth_getTransactionByHash", [pending.tx_hash])
            return pending, first, second, count, onchain, store.trade("trade-1")

    pending, first, second, count, onchain, trade = asyncio.run(restart())
    assert first.rebroadcast == ["trade-1"] and not first.errors
    assert second.mined == ["trade-1"] and not second.rebroadcast
    assert count == 1 and onchain["hash"].lower() == pending.tx_hash.lower() and int(onchain["value"], 16) == 12345
    assert trade.status == "mined" and trade.gas_used == 21_000 and trade.effective_gas_price > 0
    blobs = b"".join(p.read_bytes() for p in tmp_path.glob("engine.db*"))
    assert DEV_KEY[2:].encode() not in blobs and bytes.fromhex(DEV_KEY[2:]) not in blobs
