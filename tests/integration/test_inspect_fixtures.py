"""The inspector on 27 real mainnet blocks (trace_block traces + receipts, no logs), read from
../shared/fixtures/mainnet-blocks relative to the repository (skipped with a reason if absent).

The expectations were derived by decoding the raw traces, not taken from any inspector's output.
A few, checked by hand against the raw call data (hex amounts quoted from the traces):

* 12775690, sandwich of pool 0xefb47f…a477 (WETH/0x9813…18d9) by bot 0x0000…27d2efc2 (miner
  bribe 31720597566128908 wei in the backrun):
  frontrun tx 2 ``WETH.transfer(pair, 0xa80b0f74c14f4014)`` then
  ``pair.swap(0x3c7150582ab7105735, 0, bot)``; four router buys of the same token in txs 3–6;
  backrun tx 7 ``token.transfer(pair, 0x3c7150582ab7105735)`` then ``pair.swap(0, 0xa8bcaa71aaaaefb6, bot)``.
  Profit 0xa8bcaa71aaaaefb6 − 0xa80b0f74c14f4014 = 12158780499164852150 − 12108789017249529876
  = 49991481915322274 wei of WETH.
* 12914944 tx 0x448245bf…d8f0: transferFrom 0x10a741a462780000 (1.2 WETH) to pair 0x99b4…a343,
  swap out 0x7330639d65320dc449 of 0x25f8…cf73; pair 0xb9c3…5541 pays 0x10a412692 USDC; V3 pool
  0x88e6…5640 returns (amount0 = +0x10a412692, amount1 = −0x1b0fcf76ff8af876): 1950005273675102326
  WETH out. Profit 750005273675102326, which is exactly what the bot then unwraps (WETH.withdraw(0x0a688dd29d12f876)).
* 12914944 tx 0xfcf4558f…bffc: nested V3 callbacks run the cycle backwards in call order (USDC→WETH
  at 0x88e6 first, paid from inside its callback by 0x7ec0's swap, paid by the V2 pair 0x99b4);
  WETH in 70287643212620210176, out 123848351154563483804: profit 53560707941943273628, the
  value of its WETH.withdraw.
* 12483198 tx 0x23a4dc70…7e8a (position 2) succeeded, but the delegatecall holding its
  arbitrage failed (``error: Reverted`` at trace [0, 0]): nothing in that subtree is reported,
  while the same route landed by tx 0x22540e53…e7a1 at position 0 is.
* 13244807 tx 0xb7575eed…77f7, Aave v2 liquidationCall(WETH, USDT, 0xd164…2ffe, …):
  ``USDT.transferFrom(liquidator, aUSDT, 0x62bb844c3)`` = 26503300291 repaid and
  ``WETH.transfer(liquidator, 0x718ee9267e2b7671)`` = 8182733924513576561 seized.
* 13234998 tx 0x78f7e673…d090, cEther.liquidateBorrow{value: 268066492249420078}(borrower, cUSDC):
  ``cUSDC.seize(liquidator, borrower, 0x45166007909)`` = 4747650169097 cUSDC seized.
* 15049646 tx 0x6dd0d8be…: a Compound liquidation whose transaction reverted: not reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mevops.inspect.block import load_block
from mevops.inspect.report import inspect_block

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "mainnet-blocks"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"mainnet block fixtures not found at {FIXTURES}")

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
ETH = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
DAI = "0x6b175474e89094c44da98b954eedeac495271d0f"
LINK = "0x514910771af9ca656af840dff83e8264ecf986ca"

EXPECTED = {  # block file (10921990.json is a copy of 10921991: see below) -> decoded swaps, reverted transactions, and the MEV found
    "10921991": {
        "swaps": 34, "reverted": 6,
        "arbitrages": [
            ("0x20877270ec1a2cbeba08a3ba003a7566e540ae9a3b5ee8ddf7b3491ead02ba37", WETH, 75317031585685456),
            ("0x46286f2b703b744414bf1cb4f52434b01f1c4a9c80fc2c779c5747c611329abb", WETH, 157125793357081168),
        ],
        "sandwiches": [],
        "liquidations": [
            ("0xe6c0e3ef0436cb032e1ef292141f4fc4dcd47a75a2559602133114952190e76b", "aave-v1",
             USDT, 1069206535, "0x80fb784b7ed66730e8b1dbd9820afd29931aab03", 2657946947610159065393),
        ],
    },
    "11930296": {
        "swaps": 26, "reverted": 6,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [],
    },
    "11931272": {
        "swaps": 21, "reverted": 2,
        "arbitrages": [
            ("0x5ab21bfba50ad3993528c2828c63e311aafe93b40ee934790e545e150cb6ca73", WETH, 76823540222651237),
        ],
        "sandwiches": [],
        "liquidations": [],
    },
    "11935012": {
        "swaps": 29, "reverted": 4,
        "arbitrages": [],
        "sandwiches": [
            ("0xfe25d8ec4812df6ef280081115225133f16fb8ce0e1533ee9938cc1ce404bbc6",
             "0x10ba62d40b1d0a63246b03d51d8aedb5e86b12b2e1f7117b389c31bad26e0da9", 1, WETH, 80169284351999749),
        ],
        "liquidations": [],
    },
    "12412732": {
        "swaps": 35, "reverted": 7,
        "arbitrages": [
            ("0xff37cd33b58efec6d4d3aae393ea14a042cce790aa22f710a7b1452dcf9063a6", WETH, 79252697025622854),
            ("0x4b34b6ede2866ac0f5ad03648505258049b3a15d23c25bf65f9cf1c26b526644", WETH, 114759323109787116),
        ],
        "sandwiches": [
            ("0x82fa3528dcb8207f7d3ee4d9c1732b52a19f0186c5953e3fc7323df90a4a4a7a",
             "0x3734777321787f13ad2e5b6c8cb85cc359d88466305dab8341e949dda3c0d1f4", 1, WETH, 135297034395882002),
        ],
        "liquidations": [],
    },
    "12483198": {
        "swaps": 31, "reverted": 8,
        "arbitrages": [
            ("0x22540e530a33a8f4cf4fd69a468323df349bdb1b1cb0efe9da6e59470506e7a1", WETH, 9952775606184015146),
            ("0xe3fac192c7deb1c145fc25ef024f24f1cc724a773e3e402a1fbe1b5c1656426a", WETH, 304971173245779342),
            ("0x1db6c452124aca58e79ebc0e73f8c285109534951168f5557fcef2b56ff7b25a", WETH, 22137247799616742),
            ("0x9ec86eb0a3a3ae31e013591fb807d9c4e8ff7b384ce0d2c422c5ea1228326b6e", WETH, 18231262442915460),
        ],
        "sandwiches": [],
        "liquidations": [],
    },
    "12498502": {
        "swaps": 21, "reverted": 13,
        "arbitrages": [
            ("0xdcbcdde335d54f2387a04125652a27814498a72394c1d868cc12443c60006537", WETH, 28487455089243564),
        ],
        "sandwiches": [],
        "liquidations": [
            ("0xedd062c3a728db4b114f2e83cac281d19a9f753e36afa8a35cdbdf1e1dd5d017", "aave-v1",
             "0x4fabb145d64652a948d72533023f6e7a623c7c53", 228905512631913119672, LINK, 10111753901939162887),
            ("0x18492f250cf4735bd67a21c6cc26b7d9c59cf2fb077356dc924f36bc68a810e5", "aave-v1",
             "0x0000000000085d4780b73119b644ae5ecd22b376", 497030000000000000000, LINK, 21996356316098208090),
            ("0x191b05b28ebaf460e38e90ac6a801681b500f169041ae83a45b32803ef2ec98c", "aave-v1",
             "0x57ab1ec28d129707052df4df418d58a2d46d5f51", 447810000000000000000,
             "0x9f8f72aa9304c8b593d555f12ef6589cc3a579a2", 121531358145247546),
        ],
    },
    "12674514": {
        "swaps": 2, "reverted": 0,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0x0809bdbbddcf566e5392682a9bd9d0006a92a4dc441163c791b1136f982994b1", "compound",
             LINK, 14857434973806369550, "0x44fbebd2f576670a6c33f6fc0b00aa8c5753b322", 1547215810826),
        ],
    },
    "12775690": {
        "swaps": 21, "reverted": 4,
        "arbitrages": [],
        "sandwiches": [
            ("0x91a3abe5f3b806426542252820ba0ab6d56c098fdef6864ecaf4d352f64217a0",
             "0xc300d1ff79d3901b58dc56489fc7d083a6c13d422bfc1425a0579379300c95a2", 4, WETH, 49991481915322274),
        ],
        "liquidations": [],
    },
    "12914944": {
        "swaps": 42, "reverted": 36,
        "arbitrages": [
            ("0xfcf4558f6432689ea57737fe63124a5ec39fd6ba6aaf198df13a825dd599bffc", WETH, 53560707941943273628),
            ("0x448245bf1a507b73516c4eeee01611927dada6610bf26d403012f2e66800d8f0", WETH, 750005273675102326),
        ],
        "sandwiches": [
            ("0x8d701e95b5cd642f2af23c0b79119d02a866b81102510048ff760d4970621cbf",
             "0xf3fc11e26c03f6cd7a1324bd95e6665efeb896b763a137bea9fd34b215f20d5b", 1, WETH, 412712206907851634),
        ],
        "liquidations": [],
    },
    "13179291": {
        "swaps": 21, "reverted": 51,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0x834f0a59f6dcfdf93f5b23b0a151e447f54e325c71ecd07534971f03de1c4b56", "aave-v2",
             USDT, 116894764635, DAI, 126591374723429072069472),
            ("0x7369b6c1e1b15a761cad3e618b4df2eb84747c58fa34230e752cc2eaf241c493", "aave-v2",
             DAI, 128362984518555820706221, WETH, 37818925894787751803),
        ],
    },
    "13207907": {
        "swaps": 15, "reverted": 7,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0x42a575e3f41d24f3bb00ae96f220a8bd1e24e6a6282c2e0059bb7820c61e91b1", "compound",
             ETH, 414547860568297082, "0x35a18000230da775cac24873d00ff85bccded550", 321973320649),
        ],
    },
    "13234998": {
        "swaps": 21, "reverted": 2,
        "arbitrages": [
            ("0xd02b3e5286e7f474e59ba7f71c921812ac2f1bfd469feaa803d5ee66b1c9aa56", WETH, 14424120549537711),
        ],
        "sandwiches": [
            ("0x745b1949a06d9f638ec6913757b1a6ec7f3b855660d8acbd604f6f5438c719a3",
             "0x3a4f74e341c745c349e2e1440e1afdb889456e7d66080dd44f4e635daa330d58", 1, WETH, 53541741002585803),
        ],
        "liquidations": [
            ("0x78f7e67391c2bacde45e5057241f8b9e21a59330bce4332eecfff8fac279d090", "compound",
             ETH, 268066492249420078, "0x39aa39c021dfbae8fac545936693ac917d5e7563", 4747650169097),
        ],
    },
    "13244807": {
        "swaps": 4, "reverted": 3,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0xb7575eedc9d8cfe82c4a11cd1a851221f2eafb93d738301995ac7103ffe877f7", "aave-v2",
             USDT, 26503300291, WETH, 8182733924513576561),
        ],
    },
    "13298725": {
        "swaps": 35, "reverted": 11,
        "arbitrages": [
            ("0x634487aebaae724e6ffd0aa1aaea351885ff3ca23194542e50e3cee689582008", WETH, 16828644791834028),
        ],
        "sandwiches": [],
        "liquidations": [
            ("0x22a98b27a1d2c4f3cba9d65257d18ee961d6c98f21c7eade37da0543847eb654", "compound",
             ETH, 1106497772527562662, "0x35a18000230da775cac24873d00ff85bccded550", 910895850496),
        ],
    },
    "13302365": {
        "swaps": 23, "reverted": 7,
        "arbitrages": [
            ("0xc3afc473279cbc80c6df8d218843c06038b3b326179e47eb37178d07c27dfbdd", WETH, 15226635895954875),
        ],
        "sandwiches": [],
        "liquidations": [
            ("0xf687fedbc4bbc25adb3ef3a35c20c38fb7d35d86d7633d5061d2e3c4f86311b7", "aave-v1",
             LINK, 1809152000000000000, ETH, 15636807387264000),
            ("0xf687fedbc4bbc25adb3ef3a35c20c38fb7d35d86d7633d5061d2e3c4f86311b7", "aave-v1",
             LINK, 1040737791751147957, ETH, 8995273139160873),
        ],
    },
    "13323642": {
        "swaps": 10, "reverted": 3,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0x922264c12010b7e6a66738fd6a4bf7d96e58024f6adb1021d1315e0ea723f6c8", "compound",
             DAI, 1887867625139245201638, "0x70e36f6bf80a52b3b46b3af8e106cc0ed743e8e4", 34375792685),
        ],
    },
    "13326607": {
        "swaps": 11, "reverted": 52,
        "arbitrages": [
            ("0xe14476142ab38ae9db44a27b27abc55c65b13d229c71bb753deebdc79d02f531", WETH, 18199228041787892),
        ],
        "sandwiches": [],
        "liquidations": [
            ("0x012215bedd00147c58e1f59807664914b2abbfc13c260190dc9cfc490be3e343", "compound",
             USDC, 1207055531, "0x70e36f6bf80a52b3b46b3af8e106cc0ed743e8e4", 21459623305),
        ],
    },
    "13370850": {
        "swaps": 49, "reverted": 15,
        "arbitrages": [
            ("0xbdc8202b547c1324f8b91d32a58b8b992b3f10b8108d8878a3966348e6c9bdb4", USDC, 60519),
            ("0x4aa1042520440e94f853330731342393ea6e33079a5307e9b59406a8e4efc128", WETH, 13617806648005566),
            ("0xf2fc6c02d7b074fc899b1b0ca4e8f1d99eab5c9bf85e57483c5b0248cd17f94d", WETH, 16688920428787560),
        ],
        "sandwiches": [
            ("0x99022b1d3c48ad7b5781634720caf73356aa16f3c18dde3e211b1e9a2a043eb1",
             "0x2742bd51b2d2d3a4ce60f4a426a2853ffc02aa8929286194f375d5f5b098116a", 1, WETH, 33866654647582720),
        ],
        "liquidations": [
            ("0xfa4487cf93952a91d6c1ec4d3eeff745a0e39f416bcf71b84203ec7953d60db5", "aave-v2",
             WETH, 752044474949707219, USDC, 2835767961),
        ],
    },
    "13376024": {
        "swaps": 43, "reverted": 12,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [
            ("0xde551a73e813f1a1e5c843ac2c6a0e40d71618f4040bb7d0cd7cf7b2b6cf4633", "aave-v2",
             WETH, 767615458043667978, LINK, 113993647930952952550),
        ],
    },
    "13404932": {
        "swaps": 16, "reverted": 2,
        "arbitrages": [
            ("0xf27d594d64ae3099fd19c19475e09e914b86da781c9a6d0675b588f52e29940c", WETH, 346702828872370621),
            ("0x1abcaf29e25654d5fb1c8afa962d6880e0a9325b1f9829b799a3b681b12ce131", WETH, 10716298780718515),
            ("0x0838b27697f717b861630470888ef0abf2b15a6a6b8bce6789f7d13dc56cb923", WETH, 10423532709333084),
        ],
        "sandwiches": [
            ("0xcfec6d808b85553cdbf3d1cadaa1ffead86e038edb947bb576470d311202a0ac",
             "0xf27d594d64ae3099fd19c19475e09e914b86da781c9a6d0675b588f52e29940c", 1, WETH, 65324509381460219),
        ],
        "liquidations": [
            ("0xf5f3df6ec9b51e8e88d0d9078b04373742294530b6bcb9be045525fcab71b915", "compound",
             ETH, 1002704779407853614, "0x2db6c82ce72c8d7d770ba1b5f5ed0b6e075066d6", 417926832636968),
        ],
    },
    "13666184": {
        "swaps": 11, "reverted": 0,
        "arbitrages": [],
        "sandwiches": [],
        "liquidations": [],
    },
    "13666312": {
        "swaps": 53, "reverted": 4,
        "arbitrages": [
            ("0x2d1f04ed9a5bdc1aa921ca9e3b400ef1041488bbf7d15cadd43ec8fce6dc4c2c", WETH, 99275370646050064),
        ],
        "sandwiches": [],
        "liquidations": [],
    },
    "13666326": {
        "swaps": 53, "reverted": 20,
        "arbitrages": [],
        "sandwiches": [
            ("0x61aa0d152ade0c13eb4ffefc57b43c823c3e2e497e9339f0fcaeea80cfe1e04c",
             "0xb401bf61d69668ac64946120009153db06ed3ebe66e54b593650ba1e7c1c6ae0", 1, WETH, 203431980446301454),
            ("0xa845deb6f6ce74c5fa12f46800d3b4c62c204d0c5809bb224cc279be9eb708aa",
             "0x32da7c53dc06cbed0aed3a308bd891e06b6bb86a311c5e87d6232a5f29251281", 1, WETH, 87501851521108525),
            ("0x0e6c6d17cf30b4284a8fa74823322ec4c1dc97110879d5d9ceaa9112f9f6f7a0",
             "0x9c79aac6ff222cb5341da9d090f2a9df5e271641bdaa869728fc828055311e88", 1, WETH, 132133809867980800),
        ],
        "liquidations": [],
    },
    "13666363": {
        "swaps": 44, "reverted": 8,
        "arbitrages": [
            ("0xf2c707e60951a2a670b999f92e3cd15a3a91d94d5450fa979fe0a7113b97075e", WETH, 33450704826702015),
        ],
        "sandwiches": [
            ("0x3a85282400cee5addcbbe5e389f5a1426910dc044411413aa0cc5117a571e21f",
             "0x659020ee6b270f5442f5c6087ca08af819fe83e793a978de5eafef7c30d06088", 1, WETH, 88686616142516865),
        ],
        "liquidations": [],
    },
    "15049646": {
        "swaps": 23, "reverted": 3,
        "arbitrages": [
            ("0xfcd1aac3a3945f37a565b5ecb038b28beeec41805340a788d530cec3f6fbcc4f", WETH, 8448090722862364),
            ("0x240c29e3dc29471cf2eb3ea0e69188b4b2d09a16932c88dc23f43712b19e4fca", WETH, 8146631400338085),
            ("0x79fa828c222c3b21c002c7939d8cd613e7476c90bba26622da6790ed05d59ba2", WETH, 11580527537675369),
            ("0x438fb9e5a9fa80524661a9f8292fe238cf74e6397717ef277bbccb8e8c337558", WETH, 12242406306195653),
            ("0x29fca501f654200b2fbf861e92cf0e0687c3cc455d2f95eadd22f0a91800baaf", WETH, 14359519375201242),
        ],
        "sandwiches": [],
        "liquidations": [],
    },
}


def _report(name: str):
    return inspect_block(load_block(FIXTURES / f"{name}.json"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_block_is_classified_exactly(name):
    report = _report(name)
    want = EXPECTED[name]
    assert len(report.swaps) == want["swaps"]
    assert len(report.reverted) == want["reverted"]
    assert [(a.tx_hash, a.profit_token, a.profit) for a in report.arbitrages] == want["arbitrages"]
    assert [(s.frontrun_tx, s.backrun_tx, len(s.victim_txs), s.profit_token, s.profit)
            for s in report.sandwiches] == want["sandwiches"]
    assert [(q.tx_hash, q.protocol, q.debt_token, q.debt_repaid, q.collateral_token, q.collateral_seized)
            for q in report.liquidations] == want["liquidations"]
    reverted = set(report.reverted)
    mev_txs = {a.tx_hash for a in report.arbitrages} | {q.tx_hash for q in report.liquidations}
    mev_txs |= {h for s in report.sandwiches for h in (s.frontrun_tx, s.backrun_tx, *s.victim_txs)}
    assert not mev_txs & reverted
    assert not {s.tx_hash for s in report.swaps} & reverted


def test_the_misnamed_copy_is_the_same_block():
    """10921990.json holds block 10921991 again (without the block reward trace)."""
    assert _report("10921990").to_json() == _report("10921991").to_json()
    assert _report("10921990").block == 10921991


def test_sandwich_12775690_in_detail():
    (sandwich,) = _report("12775690").sandwiches
    assert sandwich.searcher == "0x000000000027d2efc283613d0c3e24a8b430c4d8"
    assert sandwich.victim_txs == [
        "0x9b40deca1f53593b7631ca25485d0c6faf90279b9872845acfd5c98afb185934",
        "0xf8e45a291cdab5e456375e4d7df30771670d504835c9332b32114e5bc4e315f9",
        "0xdf63b22773b66cc41e00fd42c3b3c7f42912f87476ffe6d821e3f5c00284f00b",
        "0x1fe35f66e24f12bdb54a0d35934aac809c783710d998621b70116ea9f95f4f4f",
    ]
    (leg,) = sandwich.legs
    assert leg.pool == "0xefb47fcfcad4f96c83d4ca676842fb03ef20a477"
    assert (leg.frontrun.amount_in, leg.frontrun.amount_out) == (0xa80b0f74c14f4014, 0x3c7150582ab7105735)
    assert (leg.backrun.amount_in, leg.backrun.amount_out) == (0x3c7150582ab7105735, 0xa8bcaa71aaaaefb6)
    assert [v.amount_in for v in leg.victims] == [652974555369106606, 300000000000000000, 125000000000000000,
                                                 30000000000000000000]
    assert sandwich.net == {WETH: 49991481915322274, "0x9813037ee2218799597d83d4a5b6f3b6778218d9": 0}
    assert _report("12775690").cost(sandwich.frontrun_tx, sandwich.backrun_tx) == {
        "gas_fee": str(103303 + 111682), "coinbase_transfer": "31720597566128908"}  # gas price 1 wei: a bundle


def test_two_leg_sandwich_12914944_nets_out_the_middle_token():
    (sandwich,) = _report("12914944").sandwiches
    assert [leg.pool for leg in sandwich.legs] == ["0x397ff1542f962076d0bfe58ea045ffa2d347aca0",
                                                   "0xb9c31afc2df2cd49c2a685ff378c21eb7d115541"]
    assert sandwich.net == {WETH: 412712206907851634, USDC: 0, "0x25f8087ead173b73d6e8b84329989a8eea16cf73": 0}


def test_reverted_subtree_arbitrage_12483198_is_not_reported():
    report = _report("12483198")
    inner_revert = "0x23a4dc7044666d3d4cc2d394a8017fc9d6b87018c20390d35266cea1af783e8a"
    assert inner_revert not in report.reverted  # the transaction itself succeeded
    assert all(s.tx_hash != inner_revert for s in report.swaps)
    landed = report.arbitrages[0]
    assert landed.tx_hash == "0x22540e530a33a8f4cf4fd69a468323df349bdb1b1cb0efe9da6e59470506e7a1"
    assert (landed.start_amount, landed.end_amount) == (450051102699999985664, 460003878306184000810)
    assert [s.protocol for s in landed.swaps] == ["uniswap-v3", "uniswap-v3", "uniswap-v2"]


def test_reverted_compound_liquidation_15049646():
    report = _report("15049646")
    assert "0x6dd0d8be8a" in " ".join(h[:12] for h in report.reverted)
    assert report.liquidations == []


def test_liquidation_details():
    (aave,) = _report("13244807").liquidations
    assert (aave.liquidator, aave.borrower, aave.market) == ("0x19256c009781bc2d1545db745af6dfd30c7e9cfa",
                                                              "0xd16404ca0a74a15e66d8ad7c925592fb02422ffe",
                                                              "0x7d2768de32b0b80b7a3454c06bdac94a69ddc7a9")
    (a_token,) = _report("13376024").liquidations  # receiveAToken: paid in aLINK via transferOnLiquidation
    assert a_token.receive_a_token and a_token.collateral_token == LINK
    (compound,) = _report("13234998").liquidations
    assert (compound.liquidator, compound.borrower, compound.collateral_token) == (
        "0xe0090ec6895c087a393f0e45f1f85098a6c33bef", "0xb5535a3681cf8d5431b8acfd779e2f79677ecce9",
        "0x39aa39c021dfbae8fac545936693ac917d5e7563")


HASH = re.compile(r"^0x[0-9a-f]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
AMOUNT = re.compile(r"^-?[0-9]+$")


def _walk(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("0x"):
                assert ADDRESS.match(k), k  # net amounts are keyed by token
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def test_cli_json_format_and_stable_order(run):
    for name in ("12914944", "13302365", "12775690"):
        first = run("inspect", "block", str(FIXTURES / f"{name}.json"), "--json")
        assert first.code == 0, first.err
        assert run("inspect", "block", str(FIXTURES / f"{name}.json"), "--json").out == first.out
        doc = json.loads(first.out)
        for key, value in _walk(doc):
            if key in ("transaction_hash", "frontrun_transaction", "backrun_transaction", "victim_transactions",
                       "reverted_transactions"):
                assert HASH.match(value), (key, value)
            elif key in ("pool", "pools", "token_in", "token_out", "profit_token", "debt_token", "collateral_token",
                         "searcher", "contract", "caller", "payer", "recipient", "liquidator", "borrower", "market"):
                assert ADDRESS.match(value), (key, value)
            elif key.endswith("amount") or key.startswith(("amount", "0x")) or key in ("debt_repaid", "gas_fee",
                                                                                      "coinbase_transfer"):
                assert isinstance(value, str) and AMOUNT.match(value), (key, value)
        positions = [a["transaction_position"] for a in doc["arbitrages"]]
        assert positions == sorted(positions)
        assert [s["transaction_position"] for s in doc["swaps"]] == sorted(s["transaction_position"] for s in doc["swaps"])


def test_cli_table(run):
    result = run("inspect", "block", str(FIXTURES / "12914944.json"), env={"COLUMNS": "120"})
    assert result.code == 0, result.err
    assert "block 12914944: 222 transactions, 36 reverted (skipped), 42 swaps, 2 arbitrages, 1 sandwiches" in result.out
    assert "750005273675102326" in result.out  # amounts wrap in narrow terminals, never cut
    assert "0x8d70…1cbf" in result.out and "0x2422…6792" in result.out and "WETH" in result.out
