#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title Aave-style lending market (no interest) with an owner-set price oracle
@notice Aave V3's pool interface and events for supply, withdraw, borrow, repay,
        liquidationCall and getUserAccountData. Simplifications: no interest, no
        aTokens/debt tokens (balances are kept here), a flat 50% close factor,
        receiveAToken must be false. Prices are the owner's (setAssetPrice, base
        currency with 8 decimals, AssetPriceUpdated event).
        Exact integer rules (mevops.engine.lending.health mirrors them):
          value(asset, amount)    = amount * price // 10**decimals
          healthFactor            = (sum value(collateral) * liquidationThreshold // 10000) * 10**18 // debtValue
                                    (max uint256 without debt)
          liquidationCall: requires healthFactor < 10**18; debt repaid
            = min(debtToCover, debt * CLOSE_FACTOR // 10000); collateral seized
            = debtPrice * debt * 10**collDec * bonus // (collPrice * 10**debtDec * 10000);
            if that exceeds the user's collateral: all of it, and the debt repaid becomes
              collPrice * collateral * 10**debtDec * 10000 // (debtPrice * 10**collDec * bonus)
        liquidationThreshold is the collateral-weighted average of the assets' thresholds.
"""

from ethereum.ercs import IERC20

event Supply:
    reserve: indexed(address)
    user: address
    onBehalfOf: indexed(address)
    amount: uint256
    referralCode: indexed(uint16)

event Withdraw:
    reserve: indexed(address)
    user: indexed(address)
    to: indexed(address)
    amount: uint256

event Borrow:
    reserve: indexed(address)
    user: address
    onBehalfOf: indexed(address)
    amount: uint256
    interestRateMode: uint8
    borrowRate: uint256
    referralCode: indexed(uint16)

event Repay:
    reserve: indexed(address)
    user: indexed(address)
    repayer: indexed(address)
    amount: uint256
    useATokens: bool

event LiquidationCall:
    collateralAsset: indexed(address)
    debtAsset: indexed(address)
    user: indexed(address)
    debtToCover: uint256
    liquidatedCollateralAmount: uint256
    liquidator: address
    receiveAToken: bool

event AssetPriceUpdated:
    asset: indexed(address)
    price: uint256
    timestamp: uint256

event ReserveListed:
    asset: indexed(address)
    decimals: uint8
    ltv: uint256
    liquidationThreshold: uint256
    liquidationBonus: uint256

struct ReserveConfig:
    decimals: uint8
    ltv: uint256  # bps
    liquidationThreshold: uint256  # bps
    liquidationBonus: uint256  # bps, > 10000 (10500: 5% bonus)
    listed: bool

MAX_RESERVES: constant(uint256) = 8
BPS: constant(uint256) = 10000
CLOSE_FACTOR: public(constant(uint256)) = 5000
HF_ONE: constant(uint256) = 10**18

owner: public(immutable(address))
reserves: public(DynArray[address, MAX_RESERVES])
config: public(HashMap[address, ReserveConfig])
prices: HashMap[address, uint256]
collateral: public(HashMap[address, HashMap[address, uint256]])  # user -> asset -> amount
debt: public(HashMap[address, HashMap[address, uint256]])  # user -> asset -> amount


@deploy
def __init__():
    owner = msg.sender


@external
def listReserve(asset: address, decimals: uint8, ltv: uint256, liquidationThreshold: uint256, liquidationBonus: uint256):
    assert msg.sender == owner, "not owner"
    assert not self.config[asset].listed, "listed"
    assert ltv <= liquidationThreshold and liquidationThreshold < BPS, "bad ltv"
    assert liquidationBonus >= BPS and liquidationThreshold * liquidationBonus <= BPS * BPS, "bad bonus"
    self.reserves.append(asset)
    self.config[asset] = ReserveConfig(decimals=decimals, ltv=ltv, liquidationThreshold=liquidationThreshold,
                                       liquidationBonus=liquidationBonus, listed=True)
    log ReserveListed(asset=asset, decimals=decimals, ltv=ltv, liquidationThreshold=liquidationThreshold, liquidationBonus=liquidationBonus)


@external
def setAssetPrice(asset: address, price: uint256):
    assert msg.sender == owner, "not owner"
    assert self.config[asset].listed and price > 0, "bad price"
    self.prices[asset] = price
    log AssetPriceUpdated(asset=asset, price=price, timestamp=block.timestamp)


@view
@external
def getAssetPrice(asset: address) -> uint256:
    return self.prices[asset]


@view
@internal
def _value(asset: address, amount: uint256) -> uint256:
    return amount * self.prices[asset] // 10 ** convert(self.config[asset].decimals, uint256)


@view
@internal
def _account(user: address) -> (uint256, uint256, uint256, uint256, uint256, uint256):
    """(collateral, debt, availableBorrows, liquidationThreshold, ltv, healthFactor) as Aave."""
    coll: uint256 = 0
    weighted_lt: uint256 = 0
    weighted_ltv: uint256 = 0
    debt: uint256 = 0
    for asset: address in self.reserves:
        amount: uint256 = self.collateral[user][asset]
        if amount > 0:
            v: uint256 = self._value(asset, amount)
            coll += v
            weighted_lt += v * self.config[asset].liquidationThreshold
            weighted_ltv += v * self.config[asset].ltv
        owed: uint256 = self.debt[user][asset]
        if owed > 0:
            debt += self._value(asset, owed)
    lt: uint256 = 0
    ltv: uint256 = 0
    if coll > 0:
        lt = weighted_lt // coll
        ltv = weighted_ltv // coll
    hf: uint256 = max_value(uint256)
    if debt > 0:
        hf = (weighted_lt // BPS) * HF_ONE // debt
    borrowable: uint256 = weighted_ltv // BPS
    available: uint256 = 0
    if borrowable > debt:
        available = borrowable - debt
    return coll, debt, available, lt, ltv, hf


@view
@external
def getUserAccountData(user: address) -> (uint256, uint256, uint256, uint256, uint256, uint256):
    return self._account(user)


@internal
def _pull(asset: address, sender: address, amount: uint256):
    assert extcall IERC20(asset).transferFrom(sender, self, amount, default_return_value=True), "transferFrom failed"


@internal
def _push(asset: address, to: address, amount: uint256):
    assert extcall IERC20(asset).transfer(to, amount, default_return_value=True), "transfer failed"


@external
@nonreentrant
def supply(asset: address, amount: uint256, onBehalfOf: address, referralCode: uint16):
    assert self.config[asset].listed and amount > 0, "bad supply"
    self._pull(asset, msg.sender, amount)
    self.collateral[onBehalfOf][asset] += amount
    log Supply(reserve=asset, user=msg.sender, onBehalfOf=onBehalfOf, amount=amount, referralCode=referralCode)


@external
@nonreentrant
def withdraw(asset: address, amount: uint256, to: address) -> uint256:
    self.collateral[msg.sender][asset] -= amount
    hf: uint256 = self._account(msg.sender)[5]
    assert hf >= HF_ONE, "health factor lower than liquidation threshold"
    self._push(asset, to, amount)
    log Withdraw(reserve=asset, user=msg.sender, to=to, amount=amount)
    return amount


@external
@nonreentrant
def borrow(asset: address, amount: uint256, interestRateMode: uint256, referralCode: uint16, onBehalfOf: address):
    assert onBehalfOf == msg.sender, "no credit delegation"
    assert self.config[asset].listed and amount > 0, "bad borrow"
    self.debt[msg.sender][asset] += amount
    coll: uint256 = 0
    debt: uint256 = 0
    available: uint256 = 0
    lt: uint256 = 0
    ltv: uint256 = 0
    hf: uint256 = 0
    coll, debt, available, lt, ltv, hf = self._account(msg.sender)
    assert debt * BPS <= coll * ltv, "collateral cannot cover new borrow"
    self._push(asset, msg.sender, amount)
    log Borrow(reserve=asset, user=msg.sender, onBehalfOf=onBehalfOf, amount=amount, interestRateMode=2, borrowRate=0, referralCode=referralCode)


@external
@nonreentrant
def repay(asset: address, amount: uint256, interestRateMode: uint256, onBehalfOf: address) -> uint256:
    paid: uint256 = min(amount, self.debt[onBehalfOf][asset])
    assert paid > 0, "no debt"
    self._pull(asset, msg.sender, paid)
    self.debt[onBehalfOf][asset] -= paid
    log Repay(reserve=asset, user=onBehalfOf, repayer=msg.sender, amount=paid, useATokens=False)
    return paid


@external
@nonreentrant
def liquidationCall(collateralAsset: address, debtAsset: address, user: address, debtToCover: uint256, receiveAToken: bool):
    assert not receiveAToken, "receiveAToken unsupported"
    assert self._account(user)[5] < HF_ONE, "health factor not below threshold"
    owed: uint256 = self.debt[user][debtAsset]
    held: uint256 = self.collateral[user][collateralAsset]
    assert owed > 0 and held > 0, "nothing to liquidate"
    repaid: uint256 = min(debtToCover, owed * CLOSE_FACTOR // BPS)
    assert repaid > 0, "zero liquidation"
    debt_unit: uint256 = 10 ** convert(self.config[debtAsset].decimals, uint256)
    coll_unit: uint256 = 10 ** convert(self.config[collateralAsset].decimals, uint256)
    debt_price: uint256 = self.prices[debtAsset]
    coll_price: uint256 = self.prices[collateralAsset]
    bonus: uint256 = self.config[collateralAsset].liquidationBonus
    seized: uint256 = debt_price * repaid * coll_unit * bonus // (coll_price * debt_unit * BPS)
    if seized > held:
        seized = held
        repaid = coll_price * held * debt_unit * BPS // (debt_price * coll_unit * bonus)
        assert repaid > 0, "zero liquidation"  # dust collateral is not given away for nothing
    self._pull(debtAsset, msg.sender, repaid)
    self.debt[user][debtAsset] = owed - repaid
    self.collateral[user][collateralAsset] = held - seized
    self._push(collateralAsset, msg.sender, seized)
    log LiquidationCall(collateralAsset=collateralAsset, debtAsset=debtAsset, user=user, debtToCover=repaid,
                        liquidatedCollateralAmount=seized, liquidator=msg.sender, receiveAToken=False)
