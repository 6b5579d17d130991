#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Minimal Uniswap V2 router over one factory, honouring per-pair fees
@notice swapExactTokensForTokens and getAmountsOut with Uniswap V2 Router02's
        signatures, semantics and revert strings; each hop uses its pair's `fee()`.
        Paths hold at most MAX_PATH tokens. No liquidity or ETH helpers.
"""

from ethereum.ercs import IERC20

interface IFactory:
    def getPair(tokenA: address, tokenB: address) -> address: view

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def fee() -> uint256: view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

MAX_PATH: constant(uint256) = 5
FEE_DENOMINATOR: constant(uint256) = 10000

factory: public(immutable(address))


@deploy
def __init__(_factory: address):
    factory = _factory


@view
@internal
def _pair(tokenA: address, tokenB: address) -> address:
    pair: address = staticcall IFactory(factory).getPair(tokenA, tokenB)
    assert pair != empty(address), "UniswapV2Router: NO_PAIR"
    return pair


@view
@internal
def _amounts_out(amount_in: uint256, path: DynArray[address, MAX_PATH]) -> (DynArray[uint256, MAX_PATH], DynArray[address, MAX_PATH]):
    assert len(path) >= 2, "UniswapV2Library: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = [amount_in]
    pairs: DynArray[address, MAX_PATH] = []
    for i: uint256 in range(len(path) - 1, bound=MAX_PATH - 1):
        pair: address = self._pair(path[i], path[i + 1])
        reserve0: uint112 = 0
        reserve1: uint112 = 0
        stamp: uint32 = 0
        reserve0, reserve1, stamp = staticcall IPair(pair).getReserves()
        reserve_in: uint256 = convert(reserve0, uint256)
        reserve_out: uint256 = convert(reserve1, uint256)
        if convert(path[i + 1], uint256) < convert(path[i], uint256):
            reserve_in = convert(reserve1, uint256)
            reserve_out = convert(reserve0, uint256)
        assert amounts[i] > 0, "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"
        assert reserve_in > 0 and reserve_out > 0, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
        with_fee: uint256 = amounts[i] * (FEE_DENOMINATOR - staticcall IPair(pair).fee())
        amounts.append(with_fee * reserve_out // (reserve_in * FEE_DENOMINATOR + with_fee))
        pairs.append(pair)
    return amounts, pairs


@view
@external
def getAmountsOut(amountIn: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    amounts: DynArray[uint256, MAX_PATH] = []
    pairs: DynArray[address, MAX_PATH] = []
    amounts, pairs = self._amounts_out(amountIn, path)
    return amounts


@external
def swapExactTokensForTokens(
    amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    assert deadline >= block.timestamp, "UniswapV2Router: EXPIRED"
    amounts: DynArray[uint256, MAX_PATH] = []
    pairs: DynArray[address, MAX_PATH] = []
    amounts, pairs = self._amounts_out(amountIn, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    assert extcall IERC20(path[0]).transferFrom(msg.sender, pairs[0], amountIn, default_return_value=True), "TRANSFER_FROM_FAILED"
    hops: uint256 = len(pairs)
    for i: uint256 in range(hops, bound=MAX_PATH - 1):
        recipient: address = to
        if i + 1 < hops:
            recipient = pairs[i + 1]
        out: uint256 = amounts[i + 1]
        if convert(path[i], uint256) < convert(path[i + 1], uint256):
            extcall IPair(pairs[i]).swap(0, out, recipient, b"")
        else:
            extcall IPair(pairs[i]).swap(out, 0, recipient, b"")
    return amounts
