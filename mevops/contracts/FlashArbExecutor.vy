#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Flash-loan funded cyclic arbitrage over Uniswap-V2-style pairs
@notice Owner only. Two ways to fund the cycle's input, both repaid in the same transaction:
        - flash_arb(asset, amount, pools, zero_for_one, fees_bps, min_profit): borrows
          `amount` of `asset` from the Aave-V3-style POOL (flashLoanSimple); in
          executeOperation runs the hops (as ArbExecutor: V2 getAmountOut with the fee in
          bps, output sent straight to the next pair) and approves amount + premium.
        - flash_swap_arb(amount, pools, zero_for_one, fees_bps, min_profit): a Uniswap V2
          flash swap. pools[0]'s output of `amount` in is borrowed optimistically
          (pair.swap to this contract with data -> uniswapV2Call); it is sent on to
          pools[1] and hops 1.. run on it, and `amount` of the
          input token is paid back to pools[0] (its invariant check then passes exactly
          as if we had paid first). Profit stays in the input token.
        - flash_vault_arb(asset, amount, pools, zero_for_one, fees_bps, min_profit): borrows
          from the Balancer-V2-style VAULT (flashLoan -> receiveFlashLoan), pays back
          amount + feeAmount by transfer.
        All revert "unprofitable" unless this contract's balance of the input token grew
        by at least min_profit, so a failed attempt costs only gas. Returns the profit.
"""

from ethereum.ercs import IERC20

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[MAX_PARAMS]): nonpayable
    def token0() -> address: view
    def token1() -> address: view

interface IVault:
    def flashLoan(recipient: address, tokens: DynArray[address, 4], amounts: DynArray[uint256, 4], userData: Bytes[MAX_PARAMS]): nonpayable

interface IPool:
    def flashLoanSimple(receiverAddress: address, asset: address, amount: uint256, params: Bytes[MAX_PARAMS], referralCode: uint16): nonpayable

event FlashArbitrage:
    token: indexed(address)
    amount_in: uint256
    fee: uint256
    profit: uint256

MAX_HOPS: constant(uint256) = 4
MAX_PARAMS: constant(uint256) = 2048
FEE_DENOMINATOR: constant(uint256) = 10000

owner: public(immutable(address))
POOL: public(immutable(address))
VAULT: public(immutable(address))
vault_armed: bool  # set only during flash_vault_arb: Balancer's callback carries no initiator
expected_pair: address  # set only during flash_swap_arb: the pair allowed to call uniswapV2Call
last_fee: uint256


@deploy
def __init__(_pool: address, _vault: address):
    owner = msg.sender
    POOL = _pool
    VAULT = _vault


@internal
def _transfer(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "transfer failed"


@view
@internal
def _out(pool: address, amount: uint256, zero_for_one: bool, fee_bps: uint256) -> uint256:
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    stamp: uint32 = 0
    reserve0, reserve1, stamp = staticcall IPair(pool).getReserves()
    with_fee: uint256 = amount * (FEE_DENOMINATOR - fee_bps)
    if zero_for_one:
        return with_fee * convert(reserve1, uint256) // (convert(reserve0, uint256) * FEE_DENOMINATOR + with_fee)
    return with_fee * convert(reserve0, uint256) // (convert(reserve1, uint256) * FEE_DENOMINATOR + with_fee)


@internal
def _hops(start: uint256, amount_in: uint256, pools: DynArray[address, MAX_HOPS],
          zero_for_one: DynArray[bool, MAX_HOPS], fees_bps: DynArray[uint256, MAX_HOPS]) -> uint256:
    """Swap hops start.. ; the input already sits in pools[start]; the last output comes here."""
    hops: uint256 = len(pools)
    amount: uint256 = amount_in
    for i: uint256 in range(start, hops, bound=MAX_HOPS):
        recipient: address = self
        if i + 1 < hops:
            recipient = pools[i + 1]
        amount = self._out(pools[i], amount, zero_for_one[i], fees_bps[i])
        if zero_for_one[i]:
            extcall IPair(pools[i]).swap(0, amount, recipient, b"")
        else:
            extcall IPair(pools[i]).swap(amount, 0, recipient, b"")
    return amount


@internal
def _check_route(pools: DynArray[address, MAX_HOPS], zero_for_one: DynArray[bool, MAX_HOPS], fees_bps: DynArray[uint256, MAX_HOPS]):
    hops: uint256 = len(pools)
    assert hops > 0 and len(zero_for_one) == hops and len(fees_bps) == hops, "bad route"


@external
def flash_arb(asset: address, amount: uint256, pools: DynArray[address, MAX_HOPS], zero_for_one: DynArray[bool, MAX_HOPS],
              fees_bps: DynArray[uint256, MAX_HOPS], min_profit: uint256) -> uint256:
    assert msg.sender == owner, "not owner"
    self._check_route(pools, zero_for_one, fees_bps)
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    params: Bytes[MAX_PARAMS] = abi_encode(pools, zero_for_one, fees_bps)
    extcall IPool(POOL).flashLoanSimple(self, asset, amount, params, 0)
    after: uint256 = staticcall IERC20(asset).balanceOf(self)
    assert after >= before + min_profit, "unprofitable"
    profit: uint256 = unsafe_sub(after, before)
    log FlashArbitrage(token=asset, amount_in=amount, fee=self.last_fee, profit=profit)
    self.last_fee = 0
    return profit


@external
def executeOperation(asset: address, amount: uint256, premium: uint256, initiator: address, params: Bytes[MAX_PARAMS]) -> bool:
    assert msg.sender == POOL and initiator == self, "untrusted flash loan"
    pools: DynArray[address, MAX_HOPS] = []
    zero_for_one: DynArray[bool, MAX_HOPS] = []
    fees_bps: DynArray[uint256, MAX_HOPS] = []
    pools, zero_for_one, fees_bps = abi_decode(params, (DynArray[address, MAX_HOPS], DynArray[bool, MAX_HOPS], DynArray[uint256, MAX_HOPS]))
    self._transfer(asset, pools[0], amount)
    self._hops(0, amount, pools, zero_for_one, fees_bps)
    assert extcall IERC20(asset).approve(POOL, amount + premium, default_return_value=True), "approve failed"
    self.last_fee = premium
    return True


@external
def flash_vault_arb(asset: address, amount: uint256, pools: DynArray[address, MAX_HOPS], zero_for_one: DynArray[bool, MAX_HOPS],
                    fees_bps: DynArray[uint256, MAX_HOPS], min_profit: uint256) -> uint256:
    assert msg.sender == owner, "not owner"
    self._check_route(pools, zero_for_one, fees_bps)
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    self.vault_armed = True
    extcall IVault(VAULT).flashLoan(self, [asset], [amount], abi_encode(pools, zero_for_one, fees_bps))
    self.vault_armed = False
    after: uint256 = staticcall IERC20(asset).balanceOf(self)
    assert after >= before + min_profit, "unprofitable"
    profit: uint256 = unsafe_sub(after, before)
    log FlashArbitrage(token=asset, amount_in=amount, fee=self.last_fee, profit=profit)
    self.last_fee = 0
    return profit


@external
def receiveFlashLoan(tokens: DynArray[address, 4], amounts: DynArray[uint256, 4], feeAmounts: DynArray[uint256, 4], userData: Bytes[MAX_PARAMS]):
    assert msg.sender == VAULT and self.vault_armed, "untrusted flash loan"
    assert len(tokens) == 1, "one token"
    pools: DynArray[address, MAX_HOPS] = []
    zero_for_one: DynArray[bool, MAX_HOPS] = []
    fees_bps: DynArray[uint256, MAX_HOPS] = []
    pools, zero_for_one, fees_bps = abi_decode(userData, (DynArray[address, MAX_HOPS], DynArray[bool, MAX_HOPS], DynArray[uint256, MAX_HOPS]))
    self._transfer(tokens[0], pools[0], amounts[0])
    self._hops(0, amounts[0], pools, zero_for_one, fees_bps)
    self._transfer(tokens[0], VAULT, amounts[0] + feeAmounts[0])
    self.last_fee = feeAmounts[0]


@external
def flash_swap_arb(amount: uint256, pools: DynArray[address, MAX_HOPS], zero_for_one: DynArray[bool, MAX_HOPS],
                   fees_bps: DynArray[uint256, MAX_HOPS], min_profit: uint256) -> uint256:
    assert msg.sender == owner, "not owner"
    self._check_route(pools, zero_for_one, fees_bps)
    assert len(pools) > 1, "flash swap needs 2+ hops"
    token_in: address = empty(address)
    if zero_for_one[0]:
        token_in = staticcall IPair(pools[0]).token0()
    else:
        token_in = staticcall IPair(pools[0]).token1()
    before: uint256 = staticcall IERC20(token_in).balanceOf(self)
    first_out: uint256 = self._out(pools[0], amount, zero_for_one[0], fees_bps[0])
    data: Bytes[MAX_PARAMS] = abi_encode(amount, token_in, pools, zero_for_one, fees_bps)
    self.expected_pair = pools[0]
    if zero_for_one[0]:
        extcall IPair(pools[0]).swap(0, first_out, self, data)
    else:
        extcall IPair(pools[0]).swap(first_out, 0, self, data)
    self.expected_pair = empty(address)
    after: uint256 = staticcall IERC20(token_in).balanceOf(self)
    assert after >= before + min_profit, "unprofitable"
    profit: uint256 = unsafe_sub(after, before)
    log FlashArbitrage(token=token_in, amount_in=amount, fee=0, profit=profit)
    return profit


@external
def uniswapV2Call(sender: address, amount0: uint256, amount1: uint256, data: Bytes[MAX_PARAMS]):
    assert msg.sender == self.expected_pair and sender == self, "untrusted callback"
    amount: uint256 = 0
    token_in: address = empty(address)
    pools: DynArray[address, MAX_HOPS] = []
    zero_for_one: DynArray[bool, MAX_HOPS] = []
    fees_bps: DynArray[uint256, MAX_HOPS] = []
    amount, token_in, pools, zero_for_one, fees_bps = abi_decode(data, (uint256, address, DynArray[address, MAX_HOPS], DynArray[bool, MAX_HOPS], DynArray[uint256, MAX_HOPS]))
    borrowed: address = empty(address)
    if amount0 > 0:
        borrowed = staticcall IPair(msg.sender).token0()
    else:
        borrowed = staticcall IPair(msg.sender).token1()
    self._transfer(borrowed, pools[1], amount0 + amount1)  # (V2 calls back the recipient: us)
    self._hops(1, amount0 + amount1, pools, zero_for_one, fees_bps)
    self._transfer(token_in, pools[0], amount)  # repay the first pair in its input token


@external
def withdraw(token: address, amount: uint256, to: address):
    assert msg.sender == owner, "not owner"
    self._transfer(token, to, amount)
