"""Bundle build + sign latency vs signing the plain transaction, same run, same trade.

Baseline (what MempoolExecutor does on the CPU before its send): ``execute_calldata`` + sign the
EIP-1559 transaction. Bundle (what BundleExecutor does on the CPU before its sends): the coinbase
payment calldata + sign the same transaction + one ``eth_sendBundle`` body per target block (its
own replacement uuid) + the ``X-Flashbots-Signature`` of each body (keccak of the body, EIP-191,
a secp256k1 signature by the reputation key). Network time is not included: it is the relays'.
Measured in alternating blocks so both see the same machine load.

Targets (ratios, so a loaded machine does not decide them): each target block adds at most 2x the
baseline (its work is one body and one signature, nothing else of weight), and a 3-block bundle
costs at most 8x the baseline (four signatures instead of one, plus JSON). Exit 1 if missed.
Run: ``python benchmarks/bench_bundle.py [--n N] [--blocks B]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

RATIO_TARGET = 8.0            # a bundle for 3 target blocks vs the plain signature
PER_BLOCK_TARGET = 2.0        # each further target block vs the plain signature


def trade():
    from mevops.engine.types import ArbTrade, Hop

    weth, usdc = "0x" + "aa" * 20, "0x" + "bb" * 20
    hops = (Hop("0x" + "11" * 20, weth, usdc, True, 30), Hop("0x" + "22" * 20, usdc, weth, False, 25))
    return ArbTrade("bench", "ethereum", weth, hops, 10**19, 10**19 + 4 * 10**16, 4 * 10**16, 3 * 10**15, 3 * 10**15 + 1,
                    300_000, 60 * 10**9, 2 * 10**9, 19_000_000)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    from mevops.engine.bundles import requests
    from mevops.engine.bundles.auth import FlashbotsAuth
    from mevops.engine.bundles.bribe import BribePolicy, coinbase_calldata, same_token
    from mevops.engine.bundles.executor import target_bundles
    from mevops.engine.chain.signer import Signer
    from mevops.engine.demo import DEV_SEARCHER_KEY
    from mevops.engine.executors.arb_call import execute_calldata

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="measurements of each path")
    parser.add_argument("--blocks", type=int, default=3, help="target blocks per bundle")
    args = parser.parse_args()

    signer, auth, t = Signer(DEV_SEARCHER_KEY, "anvil dev account #1"), FlashbotsAuth.random(), trade()
    executor, to_wei, policy = "0x" + "ee" * 20, same_token(t.token), BribePolicy("coinbase", 5_000)

    def tx(data: bytes, nonce: int) -> dict:
        return {"type": 2, "chainId": 1, "nonce": nonce, "to": executor, "value": 0, "data": data, "gas": t.gas_limit,
                "maxFeePerGas": t.max_fee_per_gas, "maxPriorityFeePerGas": t.max_priority_fee_per_gas}

    def baseline(nonce: int) -> None:
        signer.sign(tx(execute_calldata(t), nonce))

    def bundle(nonce: int, count: int) -> None:
        raw, _ = signer.sign(tx(coinbase_calldata(t, policy.amount(t, to_wei)), nonce))
        for b in target_bundles((raw,), range(19_000_001, 19_000_001 + count), str(uuid.uuid4())):
            auth.header(requests.send_bundle_body(b))

    paths = {"baseline: sign the plain tx": lambda n: baseline(n),
             "bundle, 1 target block": lambda n: bundle(n, 1),
             f"bundle, {args.blocks} target blocks": lambda n: bundle(n, args.blocks)}
    for fn in paths.values():  # warm: imports, caches
        for i in range(50):
            fn(i)
    times: dict[str, list[float]] = {name: [] for name in paths}
    block = 100
    for round_ in range(max(1, args.n // block)):
        for name, fn in list(paths.items())[:: 1 if round_ % 2 == 0 else -1]:
            for i in range(block):
                start = time.perf_counter()
                fn(i)
                times[name].append((time.perf_counter() - start) * 1e6)
    base = statistics.median(times["baseline: sign the plain tx"])
    print(f"bundle build + sign vs plain signing ({args.n} each, alternating blocks of {block})")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:32s} median {median:8.1f} us   p99 {percentile(values, 0.99):8.1f} us   x{median / base:5.2f}")
    full = statistics.median(times[f"bundle, {args.blocks} target blocks"])
    per_block = (full - statistics.median(times["bundle, 1 target block"])) / max(1, args.blocks - 1)
    print(f"  each further target block adds {per_block:.1f} us (one body + one header signature)")
    ok = full <= RATIO_TARGET * base and per_block <= PER_BLOCK_TARGET * base
    print(f"targets: {args.blocks}-block bundle <= {RATIO_TARGET:g}x baseline (x{full / base:.2f}), each further block "
          f"<= {PER_BLOCK_TARGET:g}x (x{per_block / base:.2f}): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
