#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Aave-V3-style flash loan pool (flashLoanSimple only)
@notice flashLoanSimple(receiverAddress, asset, amount, params, referralCode) sends
        `amount` of `asset` to the receiver, calls
          receiver.executeOperation(asset, amount, premium, initiator=msg.sender, params)
        which must return true, then pulls amount + premium back with transferFrom
        (the receiver approves this pool), as Aave V3's FlashLoanLogic does.
        premium = amount * premium_bps rounded half up (Aave's percentMul);
        FLASHLOAN_PREMIUM_TOTAL() returns premium_bps (Aave V3 mainnet: 5).
        Liquidity is whatever the pool holds (devnet: tokens sent to it). The owner
        sets the premium and can withdraw.
"""

from ethereum.ercs import IERC20

interface IFlashLoanSimpleReceiver:
    def executeOperation(asset: address, amount: uint256, premium: uint256, initiator: address, params: Bytes[MAX_PARAMS]) -> bool: nonpayable

event FlashLoan:
    target: indexed(address)
    initiator: address
    asset: indexed(address)
    amount: uint256
    interestRateMode: uint8
    premium: uint256
    referralCode: indexed(uint16)

MAX_PARAMS: constant(uint256) = 2048
BPS: constant(uint256) = 10000

owner: public(immutable(address))
premium_bps: public(uint256)


@deploy
def __init__(_premium_bps: uint256):
    assert _premium_bps < BPS, "premium too high"
    owner = msg.sender
    self.premium_bps = _premium_bps


@view
@external
def FLASHLOAN_PREMIUM_TOTAL() -> uint128:
    return convert(self.premium_bps, uint128)


@external
def set_premium(_premium_bps: uint256):
    assert msg.sender == owner, "not owner"
    assert _premium_bps < BPS, "premium too high"
    self.premium_bps = _premium_bps


@external
@nonreentrant
def flashLoanSimple(receiverAddress: address, asset: address, amount: uint256, params: Bytes[MAX_PARAMS], referralCode: uint16):
    assert amount > 0, "zero amount"
    premium: uint256 = (amount * self.premium_bps + BPS // 2) // BPS
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    assert extcall IERC20(asset).transfer(receiverAddress, amount, default_return_value=True), "transfer failed"
    assert extcall IFlashLoanSimpleReceiver(receiverAddress).executeOperation(asset, amount, premium, msg.sender, params), "INVALID_FLASHLOAN_EXECUTOR_RETURN"
    assert extcall IERC20(asset).transferFrom(receiverAddress, self, amount + premium, default_return_value=True), "repay failed"
    assert staticcall IERC20(asset).balanceOf(self) >= before + premium, "not repaid"
    log FlashLoan(target=receiverAddress, initiator=msg.sender, asset=asset, amount=amount, interestRateMode=0, premium=premium, referralCode=referralCode)


@external
def withdraw(asset: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    assert extcall IERC20(asset).transfer(to, amount, default_return_value=True), "transfer failed"
