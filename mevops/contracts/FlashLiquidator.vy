#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Flash-loan funded liquidations with the seized collateral sold on a Uniswap V2 pair
@notice Owner only. liquidate(market, collateral, debt, user, debt_to_cover, pair,
        zero_for_one, fee_bps, min_profit): borrows debt_to_cover of `debt` from the
        Aave-V3-style POOL; in executeOperation calls market.liquidationCall (the market
        takes what it repays, at most debt_to_cover), sells all seized collateral on
        `pair` (collateral in, debt out; zero_for_one: collateral is token0) and approves
        amount + premium for the pool. Reverts "unprofitable" unless this contract's
        balance of the debt asset grew by at least min_profit. Returns the profit.
        With POOL == empty(address) it liquidates from its own balance instead.
"""

from ethereum.ercs import IERC20

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1]): nonpayable

interface IPool:
    def flashLoanSimple(receiverAddress: address, asset: address, amount: uint256, params: Bytes[MAX_PARAMS], referralCode: uint16): nonpayable

interface IMarket:
    def liquidationCall(collateralAsset: address, debtAsset: address, user: address, debtToCover: uint256, receiveAToken: bool): nonpayable

event Liquidated:
    user: indexed(address)
    debt_asset: indexed(address)
    debt_covered: uint256
    collateral_sold: uint256
    flash_fee: uint256
    profit: uint256

MAX_PARAMS: constant(uint256) = 512
FEE_DENOMINATOR: constant(uint256) = 10000

owner: public(immutable(address))
POOL: public(immutable(address))
sold: uint256
fee_paid: uint256


@deploy
def __init__(_pool: address):
    owner = msg.sender
    POOL = _pool


@internal
def _liquidate_and_sell(market: address, collateral: address, debt: address, user: address, amount: uint256,
                        pair: address, zero_for_one: bool, fee_bps: uint256):
    assert extcall IERC20(debt).approve(market, amount, default_return_value=True), "approve failed"
    extcall IMarket(market).liquidationCall(collateral, debt, user, amount, False)
    seized: uint256 = staticcall IERC20(collateral).balanceOf(self)
    assert seized > 0, "nothing seized"
    assert extcall IERC20(collateral).transfer(pair, seized, default_return_value=True), "transfer failed"
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    stamp: uint32 = 0
    reserve0, reserve1, stamp = staticcall IPair(pair).getReserves()
    with_fee: uint256 = seized * (FEE_DENOMINATOR - fee_bps)
    if zero_for_one:
        out: uint256 = with_fee * convert(reserve1, uint256) // (convert(reserve0, uint256) * FEE_DENOMINATOR + with_fee)
        extcall IPair(pair).swap(0, out, self, b"")
    else:
        out: uint256 = with_fee * convert(reserve0, uint256) // (convert(reserve1, uint256) * FEE_DENOMINATOR + with_fee)
        extcall IPair(pair).swap(out, 0, self, b"")
    self.sold = seized


@external
def liquidate(market: address, collateral: address, debt: address, user: address, debt_to_cover: uint256,
              pair: address, zero_for_one: bool, fee_bps: uint256, min_profit: uint256) -> uint256:
    assert msg.sender == owner, "not owner"
    before: uint256 = staticcall IERC20(debt).balanceOf(self)
    if POOL == empty(address):
        self._liquidate_and_sell(market, collateral, debt, user, debt_to_cover, pair, zero_for_one, fee_bps)
    else:
        params: Bytes[MAX_PARAMS] = abi_encode(market, collateral, user, pair, zero_for_one, fee_bps)
        extcall IPool(POOL).flashLoanSimple(self, debt, debt_to_cover, params, 0)
    after: uint256 = staticcall IERC20(debt).balanceOf(self)
    assert after >= before + min_profit, "unprofitable"
    profit: uint256 = unsafe_sub(after, before)
    log Liquidated(user=user, debt_asset=debt, debt_covered=debt_to_cover, collateral_sold=self.sold,
                   flash_fee=self.fee_paid, profit=profit)
    self.sold = 0
    self.fee_paid = 0
    return profit


@external
def executeOperation(asset: address, amount: uint256, premium: uint256, initiator: address, params: Bytes[MAX_PARAMS]) -> bool:
    assert msg.sender == POOL and initiator == self, "untrusted flash loan"
    market: address = empty(address)
    collateral: address = empty(address)
    user: address = empty(address)
    pair: address = empty(address)
    zero_for_one: bool = False
    fee_bps: uint256 = 0
    market, collateral, user, pair, zero_for_one, fee_bps = abi_decode(params, (address, address, address, address, bool, uint256))
    self._liquidate_and_sell(market, collateral, asset, user, amount, pair, zero_for_one, fee_bps)
    assert extcall IERC20(asset).approve(POOL, amount + premium, default_return_value=True), "approve failed"
    self.fee_paid = premium
    return True


@external
def withdraw(token: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer failed"
