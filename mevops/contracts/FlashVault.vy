#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Balancer-V2-style vault flash loans
@notice flashLoan(recipient, tokens, amounts, userData) sends each amount to the
        recipient, calls recipient.receiveFlashLoan(tokens, amounts, feeAmounts, userData)
        and then requires that the vault's balance of every token grew by at least its
        fee (the recipient pays back by transferring; no allowance), as Balancer V2's
        FlashLoans.sol. feeAmount = amount * flashLoanFeePercentage / 1e18 rounded up
        (Balancer's mulUp); tokens must be strictly ascending (Balancer: BAL#101).
        Reverts with Balancer's codes: BAL#528 (insufficient balance), BAL#602 (fee not paid).
"""

from ethereum.ercs import IERC20

interface IFlashLoanRecipient:
    def receiveFlashLoan(tokens: DynArray[address, MAX_TOKENS], amounts: DynArray[uint256, MAX_TOKENS], feeAmounts: DynArray[uint256, MAX_TOKENS], userData: Bytes[MAX_DATA]): nonpayable

event FlashLoan:
    recipient: indexed(address)
    token: indexed(address)
    amount: uint256
    feeAmount: uint256

MAX_TOKENS: constant(uint256) = 4
MAX_DATA: constant(uint256) = 2048
ONE: constant(uint256) = 10**18

owner: public(immutable(address))
flashLoanFeePercentage: public(uint256)  # 1e18 = 100%


@deploy
def __init__(_fee_percentage: uint256):
    assert _fee_percentage <= ONE // 100, "fee too high"  # Balancer caps it at 1%
    owner = msg.sender
    self.flashLoanFeePercentage = _fee_percentage


@external
def setFlashLoanFeePercentage(_fee_percentage: uint256):
    assert msg.sender == owner, "not owner"
    assert _fee_percentage <= ONE // 100, "fee too high"
    self.flashLoanFeePercentage = _fee_percentage


@external
@nonreentrant
def flashLoan(recipient: address, tokens: DynArray[address, MAX_TOKENS], amounts: DynArray[uint256, MAX_TOKENS], userData: Bytes[MAX_DATA]):
    assert len(tokens) == len(amounts), "BAL#103"
    fees: DynArray[uint256, MAX_TOKENS] = []
    before: DynArray[uint256, MAX_TOKENS] = []
    previous: address = empty(address)
    pct: uint256 = self.flashLoanFeePercentage
    for i: uint256 in range(len(tokens), bound=MAX_TOKENS):
        token: address = tokens[i]
        assert convert(token, uint256) > convert(previous, uint256), "BAL#101"
        previous = token
        balance: uint256 = staticcall IERC20(token).balanceOf(self)
        assert balance >= amounts[i], "BAL#528"
        before.append(balance)
        fee: uint256 = 0
        if amounts[i] * pct > 0:
            fee = (amounts[i] * pct - 1) // ONE + 1
        fees.append(fee)
        assert extcall IERC20(token).transfer(recipient, amounts[i], default_return_value=True), "transfer failed"
    extcall IFlashLoanRecipient(recipient).receiveFlashLoan(tokens, amounts, fees, userData)
    for i: uint256 in range(len(tokens), bound=MAX_TOKENS):
        after: uint256 = staticcall IERC20(tokens[i]).balanceOf(self)
        assert after >= before[i], "BAL#602"
        assert after - before[i] >= fees[i], "BAL#602"
        log FlashLoan(recipient=recipient, token=tokens[i], amount=amounts[i], feeAmount=after - before[i])


@external
def withdraw(token: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer failed"
