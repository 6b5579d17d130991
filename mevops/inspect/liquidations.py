"""Liquidations on Aave (v1, v2, v3: one ``liquidationCall`` signature) and Compound v2 (and its
forks, CREAM included), from call traces or from the protocols' events.

* Aave ``liquidationCall(collateralAsset, debtAsset, user, debtToCover, receiveAToken)``: the
  debt repaid is what the liquidator sent of ``debtAsset`` inside the call (ether for Aave v1's
  ``0xeeee…`` reserve); the collateral seized is what it got of ``collateralAsset``, or of the
  aToken via ``transferOnLiquidation`` when ``receiveAToken`` (reported as the underlying asset,
  with ``receive_a_token``). Event: ``LiquidationCall(collateralAsset, debtAsset, user,
  debtToCover, liquidatedCollateralAmount, liquidator, receiveAToken)``.
* Compound ``cToken.liquidateBorrow(borrower, repayAmount, cTokenCollateral)`` and cEther's
  payable ``liquidateBorrow(borrower, cTokenCollateral)``: the debt repaid is the underlying the
  liquidator paid the cToken (or the ether sent); the collateral seized is ``seizeTokens`` of
  ``cTokenCollateral.seize(liquidator, borrower, seizeTokens)``, in cToken units. Event:
  ``LiquidateBorrow(liquidator, borrower, repayAmount, cTokenCollateral, seizeTokens)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevops.inspect.abi import ETH, address, args, hex_body, topic_address, uint
from mevops.inspect.block import Call, Tx
from mevops.inspect.transfers import Transfer, call_transfers, log_transfers

AAVE_LIQUIDATION_CALL = "00a718a9"  # liquidationCall(address,address,address,uint256,bool)
COMPOUND_LIQUIDATE = "f5e3c462"  # liquidateBorrow(address,uint256,address)
COMPOUND_LIQUIDATE_ETH = "aae40a2a"  # liquidateBorrow(address,address), payable
COMPOUND_SEIZE = "b2a02ff1"  # seize(address,address,uint256)
ATOKEN_TRANSFER_ON_LIQUIDATION = "f866c319"  # transferOnLiquidation(address,address,uint256)
AAVE_EVENT = "0xe413a321e8681d831f4dbccbca790d2952b56f977908e45be37335533e005286"
COMPOUND_EVENT = "0x298637f684da70674f26509b10f07ec2fbc77a335ab1e7d6215a4b2484d8bb52"
AAVE_POOLS = {  # mainnet lending pools whose version we know; other callers of the signature are "aave"
    "0x398ec7346dcd622edc5ae82352f02be94c62d119": "aave-v1",
    "0x7d2768de32b0b80b7a3454c06bdac94a69ddc7a9": "aave-v2",
    "0x7937d4799803fbbe595ed57278bc4ca21f3bffcb": "aave-v2",  # the AMM market
    "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2": "aave-v3",
}


@dataclass(slots=True, frozen=True)
class Liquidation:
    tx_hash: str
    tx_position: int
    at: int
    protocol: str
    market: str  # the Aave lending pool, or the Compound cToken of the debt
    liquidator: str
    borrower: str
    debt_token: str
    debt_repaid: int
    collateral_token: str
    collateral_seized: int | None  # None when the trace does not show it
    receive_a_token: bool = False

    def to_json(self) -> dict[str, object]:
        return {"transaction_hash": self.tx_hash, "transaction_position": self.tx_position, "protocol": self.protocol,
                "market": self.market, "liquidator": self.liquidator, "borrower": self.borrower,
                "debt_token": self.debt_token, "debt_repaid": str(self.debt_repaid),
                "collateral_token": self.collateral_token,
                "collateral_seized": None if self.collateral_seized is None else str(self.collateral_seized),
                "receive_a_token": self.receive_a_token}


def _as_token(asset: str) -> str:
    return ETH if asset == ETH else asset


def _aave_call(tx: Tx, call: Call, inner: list[Transfer]) -> Liquidation | None:
    words = args(call.input)
    collateral, debt, user, receive = address(words, 0), address(words, 1), address(words, 2), uint(words, 4)
    if collateral is None or debt is None or user is None or receive is None:
        return None
    liquidator = call.sender
    repaid = sum(t.amount for t in inner if t.token == _as_token(debt) and t.sender == liquidator)
    seized = sum(t.amount for t in inner if t.token == _as_token(collateral) and t.recipient == liquidator)
    if receive:
        seized = 0
        for c in tx.calls[call.index + 1:call.end]:
            if c.call_type == "call" and not c.reverted and c.sel == ATOKEN_TRANSFER_ON_LIQUIDATION:
                cw = args(c.input)
                if address(cw, 1) == liquidator:
                    seized += uint(cw, 2) or 0
    return Liquidation(tx.hash, tx.position, call.index, AAVE_POOLS.get(call.to, "aave"), call.to, liquidator, user,
                       _as_token(debt), repaid, _as_token(collateral), seized, bool(receive))


def _compound_call(tx: Tx, call: Call, inner: list[Transfer], with_ether: bool) -> Liquidation | None:
    words = args(call.input)
    borrower, collateral = address(words, 0), address(words, 1 if with_ether else 2)
    if borrower is None or collateral is None:
        return None
    liquidator, market = call.sender, call.to
    if with_ether:
        debt_token, repaid = ETH, call.value
    else:
        paid = [t for t in inner if t.sender == liquidator and t.recipient == market and t.token != ETH]
        debt_token = paid[0].token if paid else ""
        repaid = sum(t.amount for t in paid if t.token == debt_token) if paid else (uint(words, 1) or 0)
    seized = None
    for c in tx.calls[call.index + 1:call.end]:
        if c.call_type == "call" and not c.reverted and c.to == collateral and c.sel == COMPOUND_SEIZE:
            cw = args(c.input)
            if address(cw, 0) == liquidator and address(cw, 1) == borrower:
                seized = (seized or 0) + (uint(cw, 2) or 0)
    return Liquidation(tx.hash, tx.position, call.index, "compound", market, liquidator, borrower, debt_token, repaid,
                       collateral, seized)


def liquidations_from_traces(tx: Tx) -> list[Liquidation]:
    transfers = None
    found: list[Liquidation] = []
    for call in tx.calls:
        if call.reverted or call.call_type != "call":
            continue
        sel = call.sel
        if sel not in (AAVE_LIQUIDATION_CALL, COMPOUND_LIQUIDATE, COMPOUND_LIQUIDATE_ETH):
            continue
        transfers = call_transfers(tx) if transfers is None else transfers
        inner = [t for t in transfers if call.index <= t.at < call.end]
        if sel == AAVE_LIQUIDATION_CALL:
            hit = _aave_call(tx, call, inner)
        else:
            hit = _compound_call(tx, call, inner, sel == COMPOUND_LIQUIDATE_ETH)
        if hit is not None:
            found.append(hit)
    return found


def liquidations_from_logs(tx: Tx) -> list[Liquidation]:
    found: list[Liquidation] = []
    transfers = None
    for log in tx.logs or ():
        if not log.topics:
            continue
        data = hex_body(log.data)
        if log.topics[0] == AAVE_EVENT and len(log.topics) == 4:
            collateral, debt, user = (topic_address(t) for t in log.topics[1:4])
            repaid, seized, liquidator, receive = uint(data, 0), uint(data, 1), address(data, 2), uint(data, 3)
            if None in (collateral, debt, user, repaid, seized, liquidator, receive):
                continue
            found.append(Liquidation(tx.hash, tx.position, log.index, AAVE_POOLS.get(log.address, "aave"), log.address,
                                     liquidator, user, debt, repaid, collateral, seized, bool(receive)))
        elif log.topics[0] == COMPOUND_EVENT and len(log.topics) == 1:
            liquidator, borrower, repaid = address(data, 0), address(data, 1), uint(data, 2)
            collateral, seized = address(data, 3), uint(data, 4)
            if None in (liquidator, borrower, repaid, collateral, seized):
                continue
            transfers = log_transfers(tx) if transfers is None else transfers
            paid = [t for t in transfers if t.at < log.index and t.sender == liquidator and t.recipient == log.address]
            debt_token = paid[-1].token if paid else ETH  # cEther takes ether: no Transfer event
            found.append(Liquidation(tx.hash, tx.position, log.index, "compound", log.address, liquidator, borrower,
                                     debt_token, repaid, collateral, seized))
    return found


def tx_liquidations(tx: Tx) -> list[Liquidation]:
    """The liquidations of one transaction (none when it reverted): from logs when known, else traces."""
    if tx.reverted:
        return []
    return liquidations_from_logs(tx) if tx.logs is not None else liquidations_from_traces(tx)
