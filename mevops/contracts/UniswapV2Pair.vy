#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Uniswap V2 pair with a per-pair fee
@notice Uniswap V2's pair interface and semantics (getReserves, swap with flash
        callback, mint, burn, skim, sync, price accumulators, Mint/Burn/Swap/Sync
        events with V2's exact signatures, V2's revert strings). Differences:
        - the swap fee is `fee` basis points, fixed at creation (V2: 30);
          the invariant is (b0*10000 - in0*fee) * (b1*10000 - in1*fee) >= r0*r1*10000**2
        - no protocol fee (V2's feeTo/kLast) and no EIP-2612 permit on the LP token.
        Deployed by UniswapV2Factory from a blueprint; tokens are sorted by the factory.
"""

from ethereum.ercs import IERC20

interface IUniswapV2Callee:
    def uniswapV2Call(sender: address, amount0: uint256, amount1: uint256, data: Bytes[MAX_DATA]): nonpayable

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Mint:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256

event Burn:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256
    to: indexed(address)

event Swap:
    sender: indexed(address)
    amount0In: uint256
    amount1In: uint256
    amount0Out: uint256
    amount1Out: uint256
    to: indexed(address)

event Sync:
    reserve0: uint112
    reserve1: uint112

MAX_DATA: constant(uint256) = 2048
FEE_DENOMINATOR: constant(uint256) = 10000
MASK112: constant(uint256) = 2**112 - 1
MASK32: constant(uint256) = 2**32 - 1
MINIMUM_LIQUIDITY: public(constant(uint256)) = 1000
name: public(constant(String[32])) = "Uniswap V2"
symbol: public(constant(String[16])) = "UNI-V2"
decimals: public(constant(uint8)) = 18

factory: public(immutable(address))
token0: public(immutable(address))
token1: public(immutable(address))
fee: public(immutable(uint256))

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
# reserve0 | reserve1 << 112 | blockTimestampLast << 224: one slot, as in V2
packed_reserves: uint256
price0CumulativeLast: public(uint256)
price1CumulativeLast: public(uint256)


@deploy
def __init__(_token0: address, _token1: address, _fee: uint256):
    assert _fee < FEE_DENOMINATOR, "fee too high"
    factory = msg.sender
    token0 = _token0
    token1 = _token1
    fee = _fee


@view
@external
def getReserves() -> (uint112, uint112, uint32):
    packed: uint256 = self.packed_reserves
    return convert(packed & MASK112, uint112), convert((packed >> 112) & MASK112, uint112), convert(packed >> 224, uint32)


# --- LP token ---

@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@internal
def _mint(receiver: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@internal
def _burn(owner: address, amount: uint256):
    self.balanceOf[owner] -= amount
    self.totalSupply = unsafe_sub(self.totalSupply, amount)
    log Transfer(sender=owner, receiver=empty(address), value=amount)


# --- pool ---

@internal
def _safe_transfer(token: address, receiver: address, amount: uint256):
    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), "UniswapV2: TRANSFER_FAILED"


@view
@internal
def _balances() -> (uint256, uint256):
    return staticcall IERC20(token0).balanceOf(self), staticcall IERC20(token1).balanceOf(self)


@internal
def _update(balance0: uint256, balance1: uint256, packed: uint256):
    assert balance0 <= MASK112 and balance1 <= MASK112, "UniswapV2: OVERFLOW"
    now: uint256 = block.timestamp & MASK32
    elapsed: uint256 = unsafe_sub(now, packed >> 224) & MASK32  # wraps, as in V2
    reserve0: uint256 = packed & MASK112
    reserve1: uint256 = (packed >> 112) & MASK112
    if elapsed > 0 and reserve0 != 0 and reserve1 != 0:
        # UQ112x112 prices; the accumulators overflow by design, as in V2
        self.price0CumulativeLast = unsafe_add(self.price0CumulativeLast, unsafe_mul((reserve1 << 112) // reserve0, elapsed))
        self.price1CumulativeLast = unsafe_add(self.price1CumulativeLast, unsafe_mul((reserve0 << 112) // reserve1, elapsed))
    self.packed_reserves = balance0 | (balance1 << 112) | (now << 224)
    log Sync(reserve0=convert(balance0, uint112), reserve1=convert(balance1, uint112))


@external
@nonreentrant
def mint(to: address) -> uint256:
    packed: uint256 = self.packed_reserves
    reserve0: uint256 = packed & MASK112
    reserve1: uint256 = (packed >> 112) & MASK112
    balance0: uint256 = 0
    balance1: uint256 = 0
    balance0, balance1 = self._balances()
    amount0: uint256 = balance0 - reserve0
    amount1: uint256 = balance1 - reserve1
    supply: uint256 = self.totalSupply
    liquidity: uint256 = 0
    if supply == 0:
        liquidity = isqrt(amount0 * amount1) - MINIMUM_LIQUIDITY
        self._mint(empty(address), MINIMUM_LIQUIDITY)  # locked forever, as in V2
    else:
        liquidity = min(amount0 * supply // reserve0, amount1 * supply // reserve1)
    assert liquidity > 0, "UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED"
    self._mint(to, liquidity)
    self._update(balance0, balance1, packed)
    log Mint(sender=msg.sender, amount0=amount0, amount1=amount1)
    return liquidity


@external
@nonreentrant
def burn(to: address) -> (uint256, uint256):
    balance0: uint256 = 0
    balance1: uint256 = 0
    balance0, balance1 = self._balances()
    liquidity: uint256 = self.balanceOf[self]
    supply: uint256 = self.totalSupply
    amount0: uint256 = liquidity * balance0 // supply
    amount1: uint256 = liquidity * balance1 // supply
    assert amount0 > 0 and amount1 > 0, "UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED"
    self._burn(self, liquidity)
    self._safe_transfer(token0, to, amount0)
    self._safe_transfer(token1, to, amount1)
    balance0, balance1 = self._balances()
    self._update(balance0, balance1, self.packed_reserves)
    log Burn(sender=msg.sender, amount0=amount0, amount1=amount1, to=to)
    return amount0, amount1


@external
@nonreentrant
def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[MAX_DATA]):
    assert amount0Out > 0 or amount1Out > 0, "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT"
    packed: uint256 = self.packed_reserves
    reserve0: uint256 = packed & MASK112
    reserve1: uint256 = (packed >> 112) & MASK112
    assert amount0Out < reserve0 and amount1Out < reserve1, "UniswapV2: INSUFFICIENT_LIQUIDITY"
    assert to != token0 and to != token1, "UniswapV2: INVALID_TO"
    if amount0Out > 0:
        self._safe_transfer(token0, to, amount0Out)  # optimistic transfers
    if amount1Out > 0:
        self._safe_transfer(token1, to, amount1Out)
    if len(data) > 0:
        extcall IUniswapV2Callee(to).uniswapV2Call(msg.sender, amount0Out, amount1Out, data)
    balance0: uint256 = 0
    balance1: uint256 = 0
    balance0, balance1 = self._balances()
    # reserve - out cannot underflow: out < reserve was checked above
    left0: uint256 = unsafe_sub(reserve0, amount0Out)
    left1: uint256 = unsafe_sub(reserve1, amount1Out)
    amount0In: uint256 = 0
    amount1In: uint256 = 0
    if balance0 > left0:
        amount0In = unsafe_sub(balance0, left0)
    if balance1 > left1:
        amount1In = unsafe_sub(balance1, left1)
    assert amount0In > 0 or amount1In > 0, "UniswapV2: INSUFFICIENT_INPUT_AMOUNT"
    adjusted0: uint256 = balance0 * FEE_DENOMINATOR - amount0In * fee
    adjusted1: uint256 = balance1 * FEE_DENOMINATOR - amount1In * fee
    assert adjusted0 * adjusted1 >= reserve0 * reserve1 * FEE_DENOMINATOR**2, "UniswapV2: K"
    self._update(balance0, balance1, packed)
    log Swap(sender=msg.sender, amount0In=amount0In, amount1In=amount1In, amount0Out=amount0Out, amount1Out=amount1Out, to=to)


@external
@nonreentrant
def skim(to: address):
    packed: uint256 = self.packed_reserves
    balance0: uint256 = 0
    balance1: uint256 = 0
    balance0, balance1 = self._balances()
    self._safe_transfer(token0, to, balance0 - (packed & MASK112))
    self._safe_transfer(token1, to, balance1 - ((packed >> 112) & MASK112))


@external
@nonreentrant
def sync():
    balance0: uint256 = 0
    balance1: uint256 = 0
    balance0, balance1 = self._balances()
    self._update(balance0, balance1, self.packed_reserves)
