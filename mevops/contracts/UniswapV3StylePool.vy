#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Uniswap V3-style concentrated liquidity pool (math and state only)
@notice v3-core's swap loop and position accounting with the same integer rounding:
        slot0 (sqrtPriceX96, tick), in-range liquidity, a tick bitmap of initialized ticks
        (256 compressed ticks a word, searched within one word per step as v3-core does),
        liquidityNet/liquidityGross per tick, exact-input and exact-output swaps with a price
        limit, and v3-core's Initialize/Mint/Burn/Swap event signatures.
        Differences from v3-core: no token transfers or callbacks (amounts are returned and
        logged), no fee growth / protocol fee / oracle / positions by owner (none of which
        changes swap amounts). It is the on-chain reference for differential tests of
        mevops.engine.v3. getTickAtSqrtRatio is a binary search over getSqrtRatioAtTick
        (v3-core's definition: the greatest tick whose ratio is <= the price).
"""

event Initialize:
    sqrtPriceX96: uint160
    tick: int24

event Mint:
    sender: address
    owner: indexed(address)
    tickLower: indexed(int24)
    tickUpper: indexed(int24)
    amount: uint128
    amount0: uint256
    amount1: uint256

event Burn:
    owner: indexed(address)
    tickLower: indexed(int24)
    tickUpper: indexed(int24)
    amount: uint128
    amount0: uint256
    amount1: uint256

event Swap:
    sender: indexed(address)
    recipient: indexed(address)
    amount0: int256
    amount1: int256
    sqrtPriceX96: uint160
    liquidity: uint128
    tick: int24

MIN_TICK: constant(int256) = -887272
MAX_TICK: constant(int256) = 887272
MIN_SQRT_RATIO: constant(uint256) = 4295128739
MAX_SQRT_RATIO: constant(uint256) = 1461446703485210103287273052203988822378723970342
Q96: constant(uint256) = 2**96
FEE_DEN: constant(uint256) = 1000000
MAX_U160: constant(uint256) = 2**160 - 1
FACTORS: constant(uint256[20]) = [  # v3-core TickMath factors, 1/sqrt(1.0001)**(2**i) in Q128 (decimal)
    340265354078544963557816517032075149313,
    340248342086729790484326174814286782778,
    340214320654664324051920982716015181260,
    340146287995602323631171512101879684304,
    340010263488231146823593991679159461444,
    339738377640345403697157401104375502016,
    339195258003219555707034227454543997025,
    338111622100601834656805679988414885971,
    335954724994790223023589805789778977700,
    331682121138379247127172139078559817300,
    323299236684853023288211250268160618739,
    307163716377032989948697243942600083929,
    277268403626896220162999269216087595045,
    225923453940442621947126027127485391333,
    149997214084966997727330242082538205943,
    66119101136024775622716233608466517926,
    12847376061809297530290974190478138313,
    485053260817066172746253684029974020,
    691415978906521570653435304214168,
    1404880482679654955896180642,
]

fee: public(immutable(uint256))
tickSpacing: public(immutable(int256))
maxLiquidityPerTick: public(immutable(uint256))
sqrtPriceX96: public(uint256)
tick: public(int256)
liquidity: public(uint256)
liquidityGross: public(HashMap[int256, uint256])
liquidityNet: public(HashMap[int256, int256])
tickBitmap: public(HashMap[int256, uint256])


@deploy
def __init__(_fee: uint256, _tickSpacing: int256):
    assert _fee < FEE_DEN and _tickSpacing > 0
    fee = _fee
    tickSpacing = _tickSpacing
    # v3-core's Tick.tickSpacingToMaxLiquidityPerTick: uint128 max over every usable tick
    usable: int256 = 2 * (MAX_TICK // _tickSpacing) + 1
    maxLiquidityPerTick = convert(max_value(uint128), uint256) // convert(usable, uint256)


# ------------------------------------------------------------------------------------ FullMath

@internal
@pure
def _mulDiv(a: uint256, b: uint256, d: uint256) -> uint256:
    """floor(a*b/d) over the 512-bit product; reverts if d == 0 or the result overflows."""
    assert d > 0, "mulDiv: zero denominator"
    lo: uint256 = unsafe_mul(a, b)
    mm: uint256 = uint256_mulmod(a, b, max_value(uint256))
    hi: uint256 = unsafe_sub(unsafe_sub(mm, lo), convert(mm < lo, uint256))
    if hi == 0:
        return lo // d
    assert hi < d, "mulDiv: overflow"
    # schoolbook binary long division of (hi, lo) by d; the remainder starts at hi < d
    r: uint256 = hi
    q: uint256 = 0
    for i: uint256 in range(256):
        bit: uint256 = (lo >> (255 - i)) & 1
        carry: bool = r >= 2**255
        r = unsafe_add(unsafe_mul(r, 2), bit)
        q = unsafe_mul(q, 2)
        if carry or r >= d:
            r = unsafe_sub(r, d)
            q = q | 1
    return q


@internal
@pure
def _mulDivUp(a: uint256, b: uint256, d: uint256) -> uint256:
    result: uint256 = self._mulDiv(a, b, d)
    if uint256_mulmod(a, b, d) > 0:
        result += 1
    return result


@internal
@pure
def _divUp(x: uint256, y: uint256) -> uint256:
    q: uint256 = x // y
    if x % y > 0:
        q += 1
    return q


# ------------------------------------------------------------------------------------ TickMath

@internal
@pure
def _sqrtRatioAtTick(t: int256) -> uint256:
    absTick: uint256 = convert(abs(t), uint256)
    assert absTick <= convert(MAX_TICK, uint256), "T"
    ratio: uint256 = 2**128
    for i: uint256 in range(20):
        if absTick & (1 << i) != 0:
            ratio = (ratio * FACTORS[i]) >> 128
    if t > 0:
        ratio = max_value(uint256) // ratio
    result: uint256 = ratio >> 32
    if ratio % 2**32 != 0:
        result += 1
    return result


@internal
@pure
def _tickAtSqrtRatio(s: uint256) -> int256:
    assert s >= MIN_SQRT_RATIO and s < MAX_SQRT_RATIO, "R"
    lo: int256 = MIN_TICK  # ratio(lo) <= s
    hi: int256 = MAX_TICK  # ratio(hi) > s
    for i: uint256 in range(32):
        if hi - lo <= 1:
            break
        mid: int256 = (lo + hi) // 2
        if self._sqrtRatioAtTick(mid) <= s:
            lo = mid
        else:
            hi = mid
    return lo


# ------------------------------------------------------------------------------- SqrtPriceMath

@internal
@pure
def _nextFromAmount0RoundingUp(sqrtP: uint256, liq: uint256, amount: uint256, add: bool) -> uint256:
    if amount == 0:
        return sqrtP
    numerator1: uint256 = liq << 96
    productFits: bool = amount <= max_value(uint256) // sqrtP
    if add:
        if productFits:
            product: uint256 = amount * sqrtP
            if product <= max_value(uint256) - numerator1:
                return self._mulDivUp(numerator1, sqrtP, numerator1 + product)
        r: uint256 = self._divUp(numerator1, numerator1 // sqrtP + amount)
        assert r <= MAX_U160
        return r
    assert productFits
    product2: uint256 = amount * sqrtP
    assert numerator1 > product2
    r2: uint256 = self._mulDivUp(numerator1, sqrtP, numerator1 - product2)
    assert r2 <= MAX_U160
    return r2


@internal
@pure
def _nextFromAmount1RoundingDown(sqrtP: uint256, liq: uint256, amount: uint256, add: bool) -> uint256:
    if add:
        quotient: uint256 = self._mulDiv(amount, Q96, liq)
        r: uint256 = sqrtP + quotient
        assert r <= MAX_U160
        return r
    quotient2: uint256 = self._mulDivUp(amount, Q96, liq)
    assert sqrtP > quotient2
    return sqrtP - quotient2


@internal
@pure
def _amount0Delta(a: uint256, b: uint256, liq: uint256, roundUp: bool) -> uint256:
    lo: uint256 = min(a, b)
    hi: uint256 = max(a, b)
    assert lo > 0
    if roundUp:
        return self._divUp(self._mulDivUp(liq << 96, hi - lo, hi), lo)
    return self._mulDiv(liq << 96, hi - lo, hi) // lo


@internal
@pure
def _amount1Delta(a: uint256, b: uint256, liq: uint256, roundUp: bool) -> uint256:
    lo: uint256 = min(a, b)
    hi: uint256 = max(a, b)
    if roundUp:
        return self._mulDivUp(liq, hi - lo, Q96)
    return self._mulDiv(liq, hi - lo, Q96)


# ------------------------------------------------------------------------------------ SwapMath

@internal
@pure
def _swapStep(cur: uint256, target: uint256, liq: uint256, remaining: int256, fee_: uint256) -> (uint256, uint256, uint256, uint256):
    zeroForOne: bool = cur >= target
    exactIn: bool = remaining >= 0
    amountIn: uint256 = 0
    amountOut: uint256 = 0
    nxt: uint256 = 0
    if exactIn:
        lessFee: uint256 = self._mulDiv(convert(remaining, uint256), FEE_DEN - fee_, FEE_DEN)
        if zeroForOne:
            amountIn = self._amount0Delta(target, cur, liq, True)
        else:
            amountIn = self._amount1Delta(cur, target, liq, True)
        if lessFee >= amountIn:
            nxt = target
        elif zeroForOne:
            nxt = self._nextFromAmount0RoundingUp(cur, liq, lessFee, True)
        else:
            nxt = self._nextFromAmount1RoundingDown(cur, liq, lessFee, True)
    else:
        want: uint256 = convert(-remaining, uint256)
        if zeroForOne:
            amountOut = self._amount1Delta(target, cur, liq, False)
        else:
            amountOut = self._amount0Delta(cur, target, liq, False)
        if want >= amountOut:
            nxt = target
        elif zeroForOne:
            nxt = self._nextFromAmount1RoundingDown(cur, liq, want, False)
        else:
            nxt = self._nextFromAmount0RoundingUp(cur, liq, want, False)
    reached: bool = nxt == target
    if zeroForOne:
        if not (reached and exactIn):
            amountIn = self._amount0Delta(nxt, cur, liq, True)
        if not (reached and not exactIn):
            amountOut = self._amount1Delta(nxt, cur, liq, False)
    else:
        if not (reached and exactIn):
            amountIn = self._amount1Delta(cur, nxt, liq, True)
        if not (reached and not exactIn):
            amountOut = self._amount0Delta(cur, nxt, liq, False)
    if not exactIn and amountOut > convert(-remaining, uint256):
        amountOut = convert(-remaining, uint256)
    feeAmount: uint256 = 0
    if exactIn and nxt != target:
        feeAmount = convert(remaining, uint256) - amountIn
    else:
        feeAmount = self._mulDivUp(amountIn, fee_, FEE_DEN - fee_)
    return nxt, amountIn, amountOut, feeAmount


# the libraries, callable for differential tests (same code as the pool uses)

@external
@pure
def getSqrtRatioAtTick(t: int24) -> uint160:
    return convert(self._sqrtRatioAtTick(convert(t, int256)), uint160)


@external
@pure
def getTickAtSqrtRatio(s: uint160) -> int24:
    return convert(self._tickAtSqrtRatio(convert(s, uint256)), int24)


@external
@pure
def computeSwapStep(cur: uint160, target: uint160, liq: uint128, remaining: int256, fee_: uint24) -> (uint160, uint256, uint256, uint256):
    assert convert(fee_, uint256) < FEE_DEN
    nxt: uint256 = 0
    a: uint256 = 0
    b: uint256 = 0
    c: uint256 = 0
    nxt, a, b, c = self._swapStep(convert(cur, uint256), convert(target, uint256), convert(liq, uint256), remaining,
                                  convert(fee_, uint256))
    return convert(nxt, uint160), a, b, c


# ---------------------------------------------------------------------------------- TickBitmap

@internal
@pure
def _floorDiv(a: int256, b: int256) -> int256:
    q: int256 = a // b
    if a % b != 0 and (a < 0) != (b < 0):
        q -= 1
    return q


@internal
def _flip(t: int256):
    compressed: int256 = t // tickSpacing
    wordPos: int256 = self._floorDiv(compressed, 256)
    bitPos: uint256 = convert(compressed - wordPos * 256, uint256)
    self.tickBitmap[wordPos] = self.tickBitmap[wordPos] ^ (1 << bitPos)


@internal
@view
def _nextInitialized(t: int256, lte: bool) -> (int256, bool):
    compressed: int256 = self._floorDiv(t, tickSpacing)
    if lte:
        wordPos: int256 = self._floorDiv(compressed, 256)
        bitPos: int256 = compressed - wordPos * 256
        word: uint256 = self.tickBitmap[wordPos]
        for i: int256 in range(256):
            b: int256 = bitPos - i
            if b < 0:
                break
            if word & (1 << convert(b, uint256)) != 0:
                return (compressed - i) * tickSpacing, True
        return (compressed - bitPos) * tickSpacing, False
    c: int256 = compressed + 1
    wordPos2: int256 = self._floorDiv(c, 256)
    bitPos2: int256 = c - wordPos2 * 256
    word2: uint256 = self.tickBitmap[wordPos2]
    for i: int256 in range(256):
        b: int256 = bitPos2 + i
        if b > 255:
            break
        if word2 & (1 << convert(b, uint256)) != 0:
            return (c + i) * tickSpacing, True
    return (c + 255 - bitPos2) * tickSpacing, False


# --------------------------------------------------------------------------------------- Pool

@external
def initialize(_sqrtPriceX96: uint160):
    assert self.sqrtPriceX96 == 0, "AI"
    s: uint256 = convert(_sqrtPriceX96, uint256)
    t: int256 = self._tickAtSqrtRatio(s)
    self.sqrtPriceX96 = s
    self.tick = t
    log Initialize(sqrtPriceX96=_sqrtPriceX96, tick=convert(t, int24))


@internal
def _updateTick(t: int256, delta: int256, upper: bool):
    before: uint256 = self.liquidityGross[t]
    after: uint256 = convert(convert(before, int256) + delta, uint256)
    assert after <= maxLiquidityPerTick, "LO"
    if (before == 0) != (after == 0):
        self._flip(t)
    self.liquidityGross[t] = after
    if upper:
        self.liquidityNet[t] -= delta
    else:
        self.liquidityNet[t] += delta
    if after == 0:
        self.liquidityNet[t] = 0


@internal
def _modifyPosition(lower: int256, upper: int256, delta: int256) -> (uint256, uint256):
    assert lower < upper and lower >= MIN_TICK and upper <= MAX_TICK, "TLU"
    assert lower % tickSpacing == 0 and upper % tickSpacing == 0, "TS"
    assert self.sqrtPriceX96 != 0, "LOK"
    if delta != 0:
        self._updateTick(lower, delta, False)
        self._updateTick(upper, delta, True)
    sl: uint256 = self._sqrtRatioAtTick(lower)
    su: uint256 = self._sqrtRatioAtTick(upper)
    s: uint256 = self.sqrtPriceX96
    t: int256 = self.tick
    roundUp: bool = delta > 0
    liq: uint256 = convert(abs(delta), uint256)
    a0: uint256 = 0
    a1: uint256 = 0
    if t < lower:
        a0 = self._amount0Delta(sl, su, liq, roundUp)
    elif t < upper:
        a0 = self._amount0Delta(s, su, liq, roundUp)
        a1 = self._amount1Delta(sl, s, liq, roundUp)
        self.liquidity = convert(convert(self.liquidity, int256) + delta, uint256)
    else:
        a1 = self._amount1Delta(sl, su, liq, roundUp)
    return a0, a1


@external
def mint(recipient: address, tickLower: int24, tickUpper: int24, amount: uint128) -> (uint256, uint256):
    assert amount > 0
    a0: uint256 = 0
    a1: uint256 = 0
    a0, a1 = self._modifyPosition(convert(tickLower, int256), convert(tickUpper, int256), convert(amount, int256))
    log Mint(sender=msg.sender, owner=recipient, tickLower=tickLower, tickUpper=tickUpper, amount=amount,
             amount0=a0, amount1=a1)
    return a0, a1


@external
def burn(tickLower: int24, tickUpper: int24, amount: uint128) -> (uint256, uint256):
    a0: uint256 = 0
    a1: uint256 = 0
    a0, a1 = self._modifyPosition(convert(tickLower, int256), convert(tickUpper, int256), -convert(amount, int256))
    log Burn(owner=msg.sender, tickLower=tickLower, tickUpper=tickUpper, amount=amount, amount0=a0, amount1=a1)
    return a0, a1


@external
def swap(recipient: address, zeroForOne: bool, amountSpecified: int256, sqrtPriceLimitX96: uint160) -> (int256, int256):
    assert amountSpecified != 0, "AS"
    limit: uint256 = convert(sqrtPriceLimitX96, uint256)
    s: uint256 = self.sqrtPriceX96
    t: int256 = self.tick
    liq: uint256 = self.liquidity
    if zeroForOne:
        assert limit < s and limit > MIN_SQRT_RATIO, "SPL"
    else:
        assert limit > s and limit < MAX_SQRT_RATIO, "SPL"
    exactIn: bool = amountSpecified > 0
    remaining: int256 = amountSpecified
    calculated: int256 = 0
    for step: uint256 in range(1000):
        if remaining == 0 or s == limit:
            break
        start: uint256 = s
        tickNext: int256 = 0
        initialized: bool = False
        tickNext, initialized = self._nextInitialized(t, zeroForOne)
        tickNext = min(max(tickNext, MIN_TICK), MAX_TICK)
        sNext: uint256 = self._sqrtRatioAtTick(tickNext)
        target: uint256 = sNext
        if zeroForOne:
            if sNext < limit:
                target = limit
        elif sNext > limit:
            target = limit
        amountIn: uint256 = 0
        amountOut: uint256 = 0
        feeAmount: uint256 = 0
        s, amountIn, amountOut, feeAmount = self._swapStep(s, target, liq, remaining, fee)
        if exactIn:
            remaining -= convert(amountIn + feeAmount, int256)
            calculated -= convert(amountOut, int256)
        else:
            remaining += convert(amountOut, int256)
            calculated += convert(amountIn + feeAmount, int256)
        if s == sNext:
            if initialized:
                net: int256 = self.liquidityNet[tickNext]
                if zeroForOne:
                    net = -net
                liq = convert(convert(liq, int256) + net, uint256)
            if zeroForOne:
                t = tickNext - 1
            else:
                t = tickNext
        elif s != start:
            t = self._tickAtSqrtRatio(s)
    assert remaining == 0 or s == limit, "steps"
    self.sqrtPriceX96 = s
    self.tick = t
    self.liquidity = liq
    a0: int256 = 0
    a1: int256 = 0
    if zeroForOne == exactIn:
        a0 = amountSpecified - remaining
        a1 = calculated
    else:
        a0 = calculated
        a1 = amountSpecified - remaining
    log Swap(sender=msg.sender, recipient=recipient, amount0=a0, amount1=a1, sqrtPriceX96=convert(s, uint160),
             liquidity=convert(liq, uint128), tick=convert(t, int24))
    return a0, a1
