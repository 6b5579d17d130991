"""Block inspection speed: classify all 27 mainnet fixture blocks (traces + receipts, 25 MB of JSON).

Baseline measured in the same run: only reading and JSON-decoding the same files (orjson, as the
inspector does; stdlib json shown too), so the ratio shows what the inspection adds to the
unavoidable decode. Split: parse (decode + build the call trees, reverted subtrees) and classify
(swaps, arbitrages, sandwiches, liquidations). In-process, warm page cache, median of RUNS.

Target: the whole set inspected (read, decode, parse, classify) in <= 4x the time of the decode alone.
Run: `python benchmarks/bench_inspect.py` (needs ../shared/fixtures/mainnet-blocks).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FIXTURES = REPO.parent / "shared" / "fixtures" / "mainnet-blocks"
RUNS = 7
TARGET_RATIO = 4.0


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    import orjson

    from mevops.inspect.block import load_block, parse_block
    from mevops.inspect.report import inspect_block

    files = sorted(FIXTURES.glob("[0-9]*.json"))
    if not files:
        print(f"no fixture blocks in {FIXTURES}")
        return 1
    size = sum(f.stat().st_size for f in files)

    def decode_orjson() -> None:
        for f in files:
            orjson.loads(f.read_bytes())

    def decode_stdlib() -> None:
        for f in files:
            json.loads(f.read_bytes())

    reports = []

    def full() -> None:
        reports.clear()
        reports.extend(inspect_block(load_block(f)) for f in files)

    full()  # warm: page cache, imports
    results = {name: statistics.median(timed(fn) for _ in range(RUNS)) for name, fn in (
        ("decode_orjson", decode_orjson), ("decode_stdlib", decode_stdlib), ("full", full))}

    # the split, on documents decoded once and kept (frozen: the collector would walk them every pass)
    docs = [orjson.loads(f.read_bytes()) for f in files]
    blocks = [parse_block(d) for d in docs]
    gc.freeze()
    traces = sum(len(d["traces"]) for d in docs)
    txs = sum(len(b.txs) for b in blocks)

    def parse_only() -> None:
        for d in docs:
            parse_block(d)

    def classify_only() -> None:
        for b in blocks:
            inspect_block(b)

    results.update({name: statistics.median(timed(fn) for _ in range(RUNS)) for name, fn in (
        ("parse", parse_only), ("classify", classify_only))})
    base = results["decode_orjson"]
    found = [sum(len(getattr(r, kind)) for r in reports) for kind in ("swaps", "arbitrages", "sandwiches", "liquidations")]
    print(f"{len(files)} blocks, {size / 1e6:.1f} MB, {traces} traces, {txs} transactions; found "
          f"{found[0]} swaps, {found[1]} arbitrages, {found[2]} sandwiches, {found[3]} liquidations")
    print(f"read + orjson decode (baseline)   median {base * 1000:7.1f} ms")
    print(f"read + stdlib json decode         median {results['decode_stdlib'] * 1000:7.1f} ms  "
          f"ratio {results['decode_stdlib'] / base:5.2f}x")
    print(f"parse (call trees, reverts)       median {results['parse'] * 1000:7.1f} ms  ratio {results['parse'] / base:5.2f}x")
    print(f"classify (swaps ... liquidations) median {results['classify'] * 1000:7.1f} ms  "
          f"ratio {results['classify'] / base:5.2f}x  per block {results['classify'] / len(files) * 1000:.2f} ms")
    met = results["full"] / base <= TARGET_RATIO
    print(f"inspect all (read..classify)      median {results['full'] * 1000:7.1f} ms  ratio {results['full'] / base:5.2f}x  "
          f"per block {results['full'] / len(files) * 1000:.1f} ms  "
          f"target <= {TARGET_RATIO:.0f}x: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
