#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Atomic cyclic arbitrage over Uniswap-V2-style pairs
@notice execute(pools, zero_for_one, fees_bps, amount_in, token_in, min_profit):
        owner only. Sends `amount_in` of `token_in` from this contract's balance to
        pools[0]; for each hop i reads pools[i].getReserves(), computes
          out = in*(10000-fee)*r_out // (r_in*10000 + in*(10000-fee))
        (Uniswap V2's getAmountOut; fee 30 is exactly V2's 997/1000) and calls
        pools[i].swap sending the output straight to pools[i+1], the last hop to
        this contract. zero_for_one[i] = true means token0 in, token1 out.
        Reverts "unprofitable" unless balance_after >= balance_before + min_profit,
        so a failed or unprofitable cycle changes nothing. Works with real Uniswap
        V2 pairs and forks because fees are parameters. Returns the profit.
        Not for fee-on-transfer tokens.
"""

from ethereum.ercs import IERC20

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

event Arbitrage:
    token: indexed(address)
    amount_in: uint256
    profit: uint256

MAX_HOPS: constant(uint256) = 4
FEE_DENOMINATOR: constant(uint256) = 10000

owner: public(immutable(address))


@deploy
def __init__():
    owner = msg.sender


@internal
def _transfer(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer failed"


@external
def execute(
    pools: DynArray[address, MAX_HOPS],
    zero_for_one: DynArray[bool, MAX_HOPS],
    fees_bps: DynArray[uint256, MAX_HOPS],
    amount_in: uint256,
    token_in: address,
    min_profit: uint256,
) -> uint256:
    assert msg.sender == owner, "not owner"
    hops: uint256 = len(pools)
    assert hops > 0 and len(zero_for_one) == hops and len(fees_bps) == hops, "bad route"
    before: uint256 = staticcall IERC20(token_in).balanceOf(self)
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
    after: uint256 = staticcall IERC20(token_in).balanceOf(self)
    assert after >= before + min_profit, "unprofitable"
    profit: uint256 = unsafe_sub(after, before)
    log Arbitrage(token=token_in, amount_in=amount_in, profit=profit)
    return profit


@external
def withdraw(token: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    self._transfer(token, to, amount)
