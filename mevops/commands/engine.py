"""Run the bundled MEV engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Run the bundled MEV engine.", no_args_is_help=True, rich_markup_mode=None)


@app.command("run")
def run(
    ctx: typer.Context,
    market: Path = typer.Option(..., "--market", help="Market file (tokens, pairs, WETH) as written by the devnet helpers."),
    rpc: str = typer.Option(..., "--rpc", help="Node HTTP RPC URL (WebSocket on the same port)."),
    chain: str = typer.Option("ethereum", "--chain"),
    executor: Optional[str] = typer.Option(None, "--executor", help="ArbExecutor address (required with --live)."),
    live: bool = typer.Option(False, "--live/--paper", help="--live sends transactions; --paper (the default) simulates and records only."),
    blocks: Optional[int] = typer.Option(None, "--blocks", min=1, help="Stop after this many blocks."),
    env: Optional[str] = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV"),
    db: Optional[str] = typer.Option(None, "--db", help="Store URL (default: the config's mev_engine.store.url)."),
    api_host: Optional[str] = typer.Option(None, "--api-host", help="API address (default: mev_engine.api.host, 127.0.0.1)."),
    api_port: Optional[int] = typer.Option(None, "--api-port", min=0, max=65535,
                                           help="API port (default: mev_engine.api.port, 8080; 0 picks a free one)."),
    no_api: bool = typer.Option(False, "--no-api", help="Run without the REST/WebSocket API."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run the arbitrage engine: paper trading by default, live only with --live (and a signer)."""
    import asyncio
    from dataclasses import asdict

    from mevops.engine.chain.signer import Signer
    from mevops.engine.runtime import RunOptions
    from mevops.engine.runtime import run as run_engine
    from mevops.errors import MevopsError, Problem
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    env = ws.environment(env)
    signer = Signer.from_env()
    if live and (signer is None or executor is None):
        raise MevopsError(Problem("--live", None, "signer", "live trading needs --executor and a signer "
                                  "(MEVOPS_SIGNER_KEY or MEVOPS_SIGNER_KEYSTORE)"))
    from mevops.config.validate import effective_config

    cfg = effective_config(ws, env)[0]
    url = db or cfg.mev_engine.store.url
    api = None if no_api else api_options(ws, cfg, api_host, api_port)

    def announce(server) -> None:  # noqa: ANN001
        if not as_json:
            typer.echo(f"engine API on {server.url} (dashboard {server.url}/, docs {server.url}/docs, metrics "
                       f"{server.url}/metrics); tokens: mevops engine token create --role viewer|operator|admin", err=True)

    opts = RunOptions(rpc=rpc, market=market, chain=chain, executor=executor, live=live, blocks=blocks, store_url=url,
                      api=api, on_api=announce)
    report = run_loop(run_engine(ws, env, opts, signer))
    if as_json:
        from mevops.output import print_json

        print_json(asdict(report))
    else:
        typer.echo(f"engine stopped after {report.blocks} blocks ({report.mode}, chain {report.chain_id}, "
                   f"strategy {report.strategy}): {report.outcomes}")


def api_options(ws, cfg, host: Optional[str], port: Optional[int]):  # noqa: ANN001, ANN201
    """The API's address from the options or the config; TLS from global.security.tls (paths relative to the workspace)."""
    from mevops.engine.api.server import ApiOptions

    tls = cfg.global_.security.tls
    cert = key = None
    if tls is not None:
        cert, key = (str((ws.root / p) if not Path(p).is_absolute() else Path(p)) for p in (tls.cert_path, tls.key_path))
    return ApiOptions(host=host or cfg.mev_engine.api.host, port=cfg.mev_engine.api.port if port is None else port,
                      cert_path=cert, key_path=key)


token_app = typer.Typer(help="API tokens: created once (printed once), stored only as a hash.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(token_app, name="token")


def _store(ctx: typer.Context, env: Optional[str], db: Optional[str]):  # noqa: ANN202
    from mevops.config.validate import effective_config
    from mevops.engine.runtime import store_url
    from mevops.engine.store.store import Store
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    url = db or effective_config(ws, ws.environment(env))[0].mev_engine.store.url
    store = Store(store_url(url, ws.root))
    store.migrate()
    return store


EnvOption = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV")
DbOption = typer.Option(None, "--db", help="Store URL (default: the config's mev_engine.store.url).")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="viewer (reads, streams), operator (trading, strategies, emergency stop) or admin (config, tokens)."),
    name: Optional[str] = typer.Option(None, "--name", help="A label for the audit log (default: <role>-<user>)."),
    env: Optional[str] = EnvOption,
    db: Optional[str] = DbOption,
) -> None:
    """Create a token and print it once; only its SHA-256 is stored."""
    import getpass

    from mevops.engine.store.models import ROLES
    from mevops.errors import MevopsError, Problem

    if role not in ROLES:
        raise MevopsError(Problem("--role", None, role, f"not a role (one of {', '.join(ROLES)})"))
    with _store(ctx, env, db) as store:
        token, record = store.create_token(name or f"{role}-{getpass.getuser()}", role)
        store.audit(f"cli:{getpass.getuser()}", "token.create", str(record.id), {"name": record.name, "role": role})
    typer.echo(f"token {record.id} ({record.name}, {role}) — shown once, keep it safe:", err=True)
    typer.echo(token)


@token_app.command("list")
def token_list(ctx: typer.Context, env: Optional[str] = EnvOption, db: Optional[str] = DbOption,
               all_: bool = typer.Option(False, "--all", help="Include revoked tokens.")) -> None:
    """The tokens (never their secrets)."""
    with _store(ctx, env, db) as store:
        for t in store.tokens(include_revoked=all_):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            typer.echo(f"{t.id}\t{t.role}\t{t.name}\tcreated {t.created_at:%Y-%m-%d %H:%M}\t{state}")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: int = typer.Argument(..., min=1), env: Optional[str] = EnvOption,
                 db: Optional[str] = DbOption) -> None:
    """Revoke a token (a running engine refuses it within seconds)."""
    import getpass

    from mevops.errors import MevopsError, Problem

    with _store(ctx, env, db) as store:
        if not store.revoke_token(token_id):
            raise MevopsError(Problem("token", None, str(token_id), "no such active token"))
        store.audit(f"cli:{getpass.getuser()}", "token.revoke", str(token_id))
    typer.echo(f"token {token_id} revoked")


def run_loop(coro):  # noqa: ANN001, ANN201
    """asyncio.run on uvloop when it is installed (it comes with uvicorn[standard]): the engine and
    its API share one loop, and uvloop's is markedly faster at sockets."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)
