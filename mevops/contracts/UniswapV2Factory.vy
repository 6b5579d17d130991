#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Uniswap V2 factory with per-pair fees
@notice Uniswap V2's factory interface (createPair, getPair, allPairs,
        allPairsLength, PairCreated) over pairs deployed with CREATE2 from a
        UniswapV2Pair blueprint (ERC-5202), salt keccak256(token0 ++ token1) as
        in V2. `createPair` uses the factory's default fee; `createPairWithFee`
        sets a pair's own fee (basis points, < 10000). No protocol fee (feeTo).
"""

event PairCreated:
    token0: indexed(address)
    token1: indexed(address)
    pair: address
    allPairsLength: uint256

FEE_DENOMINATOR: constant(uint256) = 10000

pairBlueprint: public(immutable(address))
defaultFee: public(immutable(uint256))
getPair: public(HashMap[address, HashMap[address, address]])
allPairs: public(HashMap[uint256, address])
allPairsLength: public(uint256)


@deploy
def __init__(_pair_blueprint: address, _default_fee: uint256):
    assert _default_fee < FEE_DENOMINATOR, "fee too high"
    pairBlueprint = _pair_blueprint
    defaultFee = _default_fee


@internal
def _create_pair(tokenA: address, tokenB: address, fee: uint256) -> address:
    assert tokenA != tokenB, "UniswapV2: IDENTICAL_ADDRESSES"
    token0: address = tokenA
    token1: address = tokenB
    if convert(tokenB, uint256) < convert(tokenA, uint256):
        token0 = tokenB
        token1 = tokenA
    assert token0 != empty(address), "UniswapV2: ZERO_ADDRESS"
    assert self.getPair[token0][token1] == empty(address), "UniswapV2: PAIR_EXISTS"
    assert fee < FEE_DENOMINATOR, "fee too high"
    salt: bytes32 = keccak256(concat(convert(token0, bytes20), convert(token1, bytes20)))
    pair: address = create_from_blueprint(pairBlueprint, token0, token1, fee, salt=salt)
    self.getPair[token0][token1] = pair
    self.getPair[token1][token0] = pair
    count: uint256 = self.allPairsLength
    self.allPairs[count] = pair
    self.allPairsLength = count + 1
    log PairCreated(token0=token0, token1=token1, pair=pair, allPairsLength=count + 1)
    return pair


@external
def createPair(tokenA: address, tokenB: address) -> address:
    return self._create_pair(tokenA, tokenB, defaultFee)


@external
def createPairWithFee(tokenA: address, tokenB: address, fee: uint256) -> address:
    return self._create_pair(tokenA, tokenB, fee)
