"""Fast transaction plumbing for the devnet helpers, on web3 8's async API.

``TxSender`` fills every field itself (nonce, fees, gas, chainId): no eth_estimateGas, no
eth_chainId from web3's validation middleware, no nonce lookup. Contract addresses are
predicted (CREATE from sender+nonce, CREATE2 from deployer+salt+init code), so dependent
transactions are queued before earlier ones are mined; ``settle()`` sends the queue as
JSON-RPC batches (one HTTP request per block's worth of gas), then checks every receipt.

Accounts are either an address the node has unlocked (anvil's dev accounts: sent with
eth_sendTransaction) or an eth-account ``LocalAccount`` (signed here, eth_sendRawTransaction).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from mevops.contracts import abi as contract_abi
from mevops.contracts import artifact

GWEI = 10**9


class TxFailed(RuntimeError):
    """A transaction was mined but reverted, or was not mined in time."""

    def __init__(self, label: str, tx_hash: str, reason: str = "reverted") -> None:
        self.label, self.tx_hash = label, tx_hash
        super().__init__(f"{label or 'transaction'} {reason} (tx {tx_hash})")


def connect(url: str, timeout: float = 30.0) -> Any:
    """An ``AsyncWeb3`` over HTTP without the validation middleware.

    web3's ValidationMiddleware sends eth_chainId before every eth_call, eth_estimateGas and
    eth_sendTransaction (web3/middleware/validation.py); on a hot path that doubles the round
    trips, and TxSender sets chainId itself.
    """
    from web3 import AsyncHTTPProvider, AsyncWeb3

    w3 = AsyncWeb3(AsyncHTTPProvider(url, request_kwargs={"timeout": timeout}))
    w3.middleware_onion.remove("validation")
    return w3


@asynccontextmanager
async def connected(url: str, timeout: float = 30.0) -> AsyncIterator[Any]:
    """``connect(url)``, closing the provider's HTTP session on exit."""
    w3 = connect(url, timeout)
    try:
        yield w3
    finally:
        await w3.provider.disconnect()


def checksum(address: str | bytes) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def create_address(sender: str, nonce: int) -> str:
    """The address of the contract that ``sender`` creates with transaction ``nonce`` (CREATE)."""
    import rlp
    from eth_utils import keccak, to_bytes

    return checksum(keccak(rlp.encode([to_bytes(hexstr=sender), nonce]))[12:])


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    """The address CREATE2 gives ``init_code`` deployed by ``deployer`` with ``salt``."""
    from eth_utils import keccak, to_bytes

    return checksum(keccak(b"\xff" + to_bytes(hexstr=deployer) + salt + keccak(init_code))[12:])


@cache
def _function(name: str, fn: str) -> tuple[bytes, tuple[str, ...]]:
    from eth_utils import function_signature_to_4byte_selector

    for item in contract_abi(name):
        if item.get("type") == "function" and item["name"] == fn:
            types = tuple(i["type"] for i in item["inputs"])
            return function_signature_to_4byte_selector(f"{fn}({','.join(types)})"), types
    raise KeyError(f"{name} has no function {fn!r}")


def encode_call(name: str, fn: str, *args: Any) -> bytes:
    """Calldata for ``name.fn(*args)`` (our contracts have no overloaded functions)."""
    from eth_abi import encode

    selector, types = _function(name, fn)
    return selector + encode(list(types), list(args))


def encode_deploy(name: str, *args: Any, blueprint: bool = False) -> bytes:
    """Init code for contract ``name`` with constructor ``args`` (or its ERC-5202 blueprint)."""
    from eth_abi import encode
    from eth_utils import to_bytes

    art = artifact(name)
    code = to_bytes(hexstr=art["blueprint" if blueprint else "bytecode"])
    if blueprint:
        return code
    ctor = next((i for i in art["abi"] if i.get("type") == "constructor"), {"inputs": []})
    return code + encode([i["type"] for i in ctor["inputs"]], list(args))


class TxSender:
    """One account sending many transactions with locally tracked nonces, in JSON-RPC batches.

    ``send``/``call``/``deploy`` only queue (deploy returns the predicted address at once);
    ``settle()`` posts the queue as JSON-RPC batches (web3's own batcher refuses
    eth_sendTransaction, so this goes through the provider's ``make_batch_request``), waits for
    every receipt and raises ``TxFailed`` for the first transaction that failed. While a
    TxSender is in use it owns its account's nonces: send nothing else from that account.
    """

    BATCH = 200  # transactions per JSON-RPC batch (geth allows 1000, anvil has no limit)

    def __init__(self, w3: Any, account: Any, *, nonce: int, chain_id: int, max_fee: int, tip: int,
                 block_gas_limit: int = 30_000_000) -> None:
        self.w3 = w3
        self.account = None if isinstance(account, str) else account
        self.address = checksum(account if isinstance(account, str) else account.address)
        self.nonce, self.chain_id, self.max_fee, self.tip = nonce, chain_id, max_fee, tip
        self.block_gas_limit = block_gas_limit
        self.queue: list[tuple[str, int, str, Any]] = []  # (label, gas, method, param)

    @classmethod
    async def open(cls, w3: Any, account: Any, tip: int = GWEI, fee_headroom: int = 8) -> TxSender:
        """Read nonce, chain id and base fee once (concurrently). The fee cap is ``fee_headroom``
        times the base fee (plus the tip): a batch filling blocks raises the base fee 12.5% a block,
        and only base fee + tip is paid, so a generous cap costs nothing."""
        address = checksum(account if isinstance(account, str) else account.address)
        nonce, chain_id, block = await asyncio.gather(
            w3.eth.get_transaction_count(address, "pending"), w3.eth.chain_id, w3.eth.get_block("latest"))
        max_fee = fee_headroom * int(block.get("baseFeePerGas", GWEI)) + tip
        return cls(w3, account, nonce=nonce, chain_id=chain_id, max_fee=max_fee, tip=tip, block_gas_limit=block["gasLimit"])

    def send(self, to: str | None, data: bytes = b"", *, gas: int, value: int = 0, label: str = "") -> None:
        """Queue a transaction (type 2, every field set here)."""
        tx: dict[str, Any] = {"nonce": self.nonce, "gas": gas, "value": value, "data": data, "chainId": self.chain_id,
                              "maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.tip, "type": 2}
        if to is not None:
            tx["to"] = checksum(to)
        if self.account is None:
            rpc = {k: ("0x" + v.hex() if isinstance(v, bytes) else hex(v) if isinstance(v, int) else v) for k, v in tx.items()}
            self.queue.append((label, gas, "eth_sendTransaction", {**rpc, "from": self.address}))
        else:
            raw = self.account.sign_transaction(tx).raw_transaction
            self.queue.append((label, gas, "eth_sendRawTransaction", "0x" + bytes(raw).hex()))
        self.nonce += 1

    def call(self, to: str, name: str, fn: str, *args: Any, gas: int, value: int = 0) -> None:
        """Queue ``name.fn(*args)`` sent to ``to``."""
        self.send(to, encode_call(name, fn, *args), gas=gas, value=value, label=f"{name}.{fn}")

    def deploy(self, name: str, *args: Any, gas: int, blueprint: bool = False) -> str:
        """Queue the deployment of ``name``; returns its (predicted) address."""
        address = create_address(self.address, self.nonce)
        label = f"deploy {name}{' blueprint' if blueprint else ''}"
        self.send(None, encode_deploy(name, *args, blueprint=blueprint), gas=gas, label=label)
        return address

    async def settle(self, timeout: float = 60.0, poll: float = 0.005) -> list[str]:
        """Send the queue, wait until all are mined, check them; returns the transaction hashes.

        The queue goes out in chunks whose gas limits fit in one block, each mined before the
        next is sent. On anvil, block production is paused meanwhile and each chunk is mined with
        ``evm_mine``: anvil 1.7 can strand a burst of transactions from one sender in its "queued"
        pool forever when one arrives while its predecessor is being mined (it then waits for a
        nonce marker that is never provided again). After a failure, open a new TxSender."""
        queue, self.queue = self.queue, []
        if not queue:
            return []
        restore = await self._pause_mining() if len(queue) > 1 else None  # only bursts meet the bug
        hashes: list[str] = []
        try:
            for chunk in self._chunks(queue):
                answers = await self._batch([(method, [param]) for _, _, method, param in chunk], chunk[0][0])
                sent = []
                for (label, _, _, _), answer in zip(chunk, answers):
                    if "error" in answer:
                        raise TxFailed(label, "", f"rejected: {answer['error'].get('message', answer['error'])}")
                    sent.append((label, answer["result"]))
                await self._wait(sent, timeout, poll, mine=restore is not None)
                hashes += [h for _, h in sent]
        finally:
            if restore is not None:
                await self._resume_mining(restore)
        return hashes

    async def _pause_mining(self) -> tuple[str, list[Any]] | None:
        """Stop anvil's automine or whole-second interval mining; returns the request that restores
        it, or None (not anvil, sub-second interval that evm_setIntervalMining cannot restore)."""
        provider = self.w3.provider
        automine, interval = await asyncio.gather(provider.make_request("anvil_getAutomine", []),
                                                  provider.make_request("anvil_getIntervalMining", []))
        if automine.get("result") is True:
            await provider.make_request("evm_setAutomine", [False])
            return "evm_setAutomine", [True]
        if isinstance(interval.get("result"), int) and interval["result"] > 0:
            await provider.make_request("evm_setIntervalMining", [0])
            return "evm_setIntervalMining", [interval["result"]]
        return None

    async def _resume_mining(self, restore: tuple[str, list[Any]]) -> None:
        """Restore block production; mine what others sent since our last evm_mine (automine only
        mines on arrival, so it would otherwise wait for the next transaction)."""
        provider = self.w3.provider
        await provider.make_request(*restore)
        status = await provider.make_request("txpool_status", [])
        if restore[0] == "evm_setAutomine" and int(status.get("result", {}).get("pending", "0x0"), 16):
            await provider.make_request("evm_mine", [])

    def _chunks(self, queue: list[tuple[str, int, str, Any]]) -> list[list[tuple[str, int, str, Any]]]:
        chunks: list[list[tuple[str, int, str, Any]]] = []
        gas = 0
        for item in queue:
            if not chunks or len(chunks[-1]) >= self.BATCH or gas + item[1] > self.block_gas_limit:
                chunks.append([])
                gas = 0
            chunks[-1].append(item)
            gas += item[1]
        return chunks

    async def _wait(self, todo: list[tuple[str, str]], timeout: float, poll: float, mine: bool) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        mined = 0
        while todo:
            if mine:
                if mined == 3:  # a chunk fits in one block: a transaction still out will not come
                    raise TxFailed(todo[0][0], todo[0][1], "not mined in 3 blocks (fee cap below the base fee?)")
                await self.w3.provider.make_request("evm_mine", [])
                mined += 1
            answers = await self._batch([("eth_getTransactionReceipt", [h]) for _, h in todo], todo[0][0])
            left = []
            for (label, tx_hash), answer in zip(todo, answers):
                receipt = answer.get("result")
                if receipt is None:
                    left.append((label, tx_hash))
                elif int(receipt["status"], 16) != 1:
                    raise TxFailed(label, tx_hash)
            todo = left
            if todo and loop.time() > deadline:
                raise TxFailed(todo[0][0], todo[0][1], f"not mined within {timeout:g}s")
            if todo and not mine:
                await asyncio.sleep(poll)

    async def _batch(self, requests: list[tuple[str, list[Any]]], label: str) -> list[dict[str, Any]]:
        if not requests:
            return []
        answers = await self.w3.provider.make_batch_request(requests)
        if not isinstance(answers, list):  # the node refused the whole batch
            raise TxFailed(label, "", f"batch rejected: {answers.get('error', answers)}")
        return answers
