"""Inspect blocks for MEV: swaps, arbitrages, sandwiches and liquidations."""

from __future__ import annotations

from typing import Optional

import typer

app = typer.Typer(help="Inspect blocks for MEV: swaps, arbitrages, sandwiches, liquidations.",
                  no_args_is_help=True, rich_markup_mode=None)

KNOWN_TOKENS = {  # display only: symbols for the commonest mainnet tokens
    "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": "WETH", "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee": "ETH",
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": "USDC", "0xdac17f958d2ee523a2206206994597c13d831ec7": "USDT",
    "0x6b175474e89094c44da98b954eedeac495271d0f": "DAI", "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": "WBTC",
}


def _load(target: str, rpc: str | None):  # noqa: ANN202
    from pathlib import Path

    from mevops.errors import MevopsError, Problem
    from mevops.inspect.block import load_block

    number = target.lower()
    is_number = number == "latest" or number.isdigit() or (number.startswith("0x") and len(number) > 2
                                                             and all(c in "0123456789abcdef" for c in number[2:]))
    if rpc:
        if not is_number:
            raise MevopsError(Problem("mevops inspect block", None, "BLOCK",
                                      f"with --rpc give a block number or 'latest', not {target!r}"))
        from mevops.inspect.rpc import fetch_block

        return fetch_block(rpc, number if number in ("latest",) or number.startswith("0x") else int(number))
    if is_number and not Path(target).exists():
        raise MevopsError(Problem(target, None, "", "no such file (to fetch block NUMBER from a node, add --rpc URL)"))
    return load_block(target)


def _token(address: str) -> str:
    return KNOWN_TOKENS.get(address, f"{address[:6]}…{address[-4:]}")


def _short(value: str) -> str:
    return f"{value[:6]}…{value[-4:]}"


def _table(title: str, columns: tuple[str, ...], amounts: tuple[str, ...]):  # noqa: ANN202
    """A table whose amount columns wrap instead of being cut: every digit is shown."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in columns:
        if col in amounts:
            table.add_column(col, justify="right", overflow="fold", min_width=8)
        else:
            table.add_column(col, no_wrap=True)
    return table


def _print_table(report) -> None:  # noqa: ANN001
    from mevops.output import console

    out = console()
    out.print(f"block {report.block}: {report.transactions} transactions, {len(report.reverted)} reverted (skipped), "
              f"{len(report.swaps)} swaps, {len(report.arbitrages)} arbitrages, {len(report.sandwiches)} sandwiches, "
              f"{len(report.liquidations)} liquidations")
    if report.arbitrages:
        table = _table("arbitrages", ("tx", "pos", "hops", "token", "start", "profit"), ("start", "profit"))
        for a in report.arbitrages:
            table.add_row(_short(a.tx_hash), str(a.tx_position), str(len(a.swaps)),
                          _token(a.profit_token), str(a.start_amount), str(a.profit))
        out.print(table)
    if report.sandwiches:
        table = _table("sandwiches", ("frontrun", "victims", "backrun", "pool", "token", "profit"), ("profit",))
        for s in report.sandwiches:
            table.add_row(_short(s.frontrun_tx), "\n".join(_short(v) for v in s.victim_txs), _short(s.backrun_tx),
                          "\n".join(_short(leg.pool) for leg in s.legs), _token(s.profit_token), str(s.profit))
        out.print(table)
    if report.liquidations:
        table = _table("liquidations", ("tx", "protocol", "liquidator", "debt", "repaid", "collateral", "seized"),
                       ("repaid", "seized"))
        for q in report.liquidations:
            table.add_row(_short(q.tx_hash), q.protocol, _short(q.liquidator), _token(q.debt_token),
                          str(q.debt_repaid), _token(q.collateral_token),
                          "?" if q.collateral_seized is None else str(q.collateral_seized))
        out.print(table)


@app.command("block")
def block(
    target: str = typer.Argument(..., metavar="FILE|NUMBER",
                                 help="A block file (trace_block traces + receipts, JSON), or a block number with --rpc."),
    rpc: Optional[str] = typer.Option(None, "--rpc", help="Node URL to fetch block NUMBER from (needs trace_block)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: lowercase hex, amounts as decimal strings."),
    swaps: bool = typer.Option(True, "--swaps/--no-swaps", help="Include every decoded swap in the JSON."),
) -> None:
    """Classify a block's swaps, arbitrages, sandwiches and liquidations (reverted transactions excluded)."""
    from mevops.inspect.report import inspect_block

    report = inspect_block(_load(target, rpc))
    if as_json:
        from mevops.output import print_json

        print_json(report.to_json(with_swaps=swaps))
    else:
        _print_table(report)
