#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Atomic cyclic arbitrage that can pay the block's coinbase (for bundles)
@notice A superset of ArbExecutor: the same
          execute(pools, zero_for_one, fees_bps, amount_in, token_in, min_profit)
        (same selector, same swaps, same reverts, same Arbitrage event) and
          execute(pools, zero_for_one, fees_bps, amount_in, token_in, min_profit, coinbase_payment)
        which, after the cycle, pays `coinbase_payment` wei of ether to block.coinbase: the
        bundle bribe that is paid only if the trade succeeds (a builder counts 1 wei sent to
        coinbase like 1 wei of priority fee). With token_in == weth (immutable) it requires
          balance_after >= balance_before + min_profit + coinbase_payment
        and unwraps the payment out of the profit; with another token_in the ether comes from
        this contract's own balance (top it up with a plain transfer). The Arbitrage event
        logs the profit kept (after the payment when it came out of the profit);
        CoinbasePayment(coinbase, amount) logs the payment. Coinbase is paid with a call that
        forwards all gas (a coinbase may be a contract); it is the last step, and execute and
        withdraw are owner only.
"""

from ethereum.ercs import IERC20

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

interface IWETH:
    def withdraw(wad: uint256): nonpayable

event Arbitrage:
    token: indexed(address)
    amount_in: uint256
    profit: uint256

event CoinbasePayment:
    coinbase: indexed(address)
    amount: uint256

MAX_HOPS: constant(uint256) = 4
FEE_DENOMINATOR: constant(uint256) = 10000

owner: public(immutable(address))
weth: public(immutable(address))


@deploy
def __init__(weth_: address):
    owner = msg.sender
    weth = weth_


@external
@payable
def __default__():
    # ether from WETH.withdraw (2300 gas stipend: nothing to do here) or the owner's top-up
    pass


@internal
def _transfer(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer failed"


@internal
def _cycle(pools: DynArray[address, MAX_HOPS], zero_for_one: DynArray[bool, MAX_HOPS],
           fees_bps: DynArray[uint256, MAX_HOPS], amount_in: uint256, token_in: address):
    hops: uint256 = len(pools)
    assert hops > 0 and len(zero_for_one) == hops and len(fees_bps) == hops, "bad route"
    self._transfer(token_in, pools[0], amount_in)
    amount: uint256 = amount_in
    for i: uint256 in range(hops, bound=MAX_HOPS):
        pool: address = pools[i]
        reserve0: uint112 = 0
        reserve1: uint112 = 0
        stamp: uint32 = 0
        reserve0, reserve1, stamp = staticcall IPair(pool).getReserves()
        recipient: address = self
        if i + 1 < hops:
            recipient = pools[i + 1]
        with_fee: uint256 = amount * (FEE_DENOMINATOR - fees_bps[i])
        if zero_for_one[i]:
            amount = with_fee * convert(reserve1, uint256) // (convert(reserve0, uint256) * FEE_DENOMINATOR + with_fee)
            extcall IPair(pool).swap(0, amount, recipient, b"")
        else:
            amount = with_fee * convert(reserve0, uint256) // (convert(reserve1, uint256) * FEE_DENOMINATOR + with_fee)
            extcall IPair(pool).swap(amount, 0, recipient, b"")


@external
def execute(
    pools: DynArray[address, MAX_HOPS],
    zero_for_one: DynArray[bool, MAX_HOPS],
    fees_bps: DynArray[uint256, MAX_HOPS],
    amount_in: uint256,
    token_in: address,
    min_profit: uint256,
    coinbase_payment: uint256 = 0,
) -> uint256:
    assert msg.sender == owner, "not owner"
    before: uint256 = staticcall IERC20(token_in).balanceOf(self)
    self._cycle(pools, zero_for_one, fees_bps, amount_in, token_in)
    after: uint256 = staticcall IERC20(token_in).balanceOf(self)
    kept: uint256 = 0
    if token_in == weth:
        assert after >= before + min_profit + coinbase_payment, "unprofitable"
        kept = unsafe_sub(unsafe_sub(after, before), coinbase_payment)
        if coinbase_payment > 0:
            extcall IWETH(weth).withdraw(coinbase_payment)
    else:
        assert after >= before + min_profit, "unprofitable"
        kept = unsafe_sub(after, before)
        assert self.balance >= coinbase_payment, "no ether for the coinbase payment"
    if coinbase_payment > 0:
        raw_call(block.coinbase, b"", value=coinbase_payment)
        log CoinbasePayment(coinbase=block.coinbase, amount=coinbase_payment)
    log Arbitrage(token=token_in, amount_in=amount_in, profit=kept)
    return kept


@external
def withdraw(token: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    self._transfer(token, to, amount)


@external
def withdraw_ether(amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    send(to, amount)
