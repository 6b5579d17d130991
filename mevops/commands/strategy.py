"""Strategies: list, validate, deploy through research → testing → active → archived, hot reload."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Strategies: validate, deploy (research → testing → active → archived), promote, archive, "
                  "diff, disable; the running engine reloads without a restart.", no_args_is_help=True, rich_markup_mode=None)

ENV = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV", help="Environment whose effective limits apply.")
JSON = typer.Option(False, "--json", help="Print JSON.")
DRY_RUN = typer.Option(False, "--dry-run", help="Show the diff and the move; write nothing.")
REASON = typer.Option("", "--reason", help="Why (kept in the audit trail).")
API = typer.Option(None, "--api", help="Engine API URL (default: http://mev_engine.api.host:port).")
TOKEN = typer.Option(None, "--token", help="Engine API token (default: MEVOPS_API_TOKEN).")


def _workspace(ctx: typer.Context):  # noqa: ANN202
    from mevops.workspace import Workspace

    return Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)


def _engine(cfg, api: Optional[str], token: Optional[str]):  # noqa: ANN001, ANN202
    from mevops.strategies.engine_api import EngineApi

    return EngineApi.for_config(cfg, api, token)


def _config(ws, env: str):  # noqa: ANN001, ANN202
    from mevops.config.validate import effective_config

    return effective_config(ws, env)[0]


@app.command("list")
def list_(ctx: typer.Context, stage: Optional[str] = typer.Option(None, "--stage", help="research, testing, active or archived."),
          env: Optional[str] = ENV, api: Optional[str] = API, token: Optional[str] = TOKEN, as_json: bool = JSON) -> None:
    """Every strategy: name, type, chains, stage, enabled, and whether the running engine has it loaded."""
    from mevops.config.models import STAGES
    from mevops.errors import MevopsError, Problem
    from mevops.strategies.store import load_strategies

    if stage is not None and stage not in STAGES:
        raise MevopsError(Problem("--stage", None, "", f"unknown stage {stage!r} (stages: {', '.join(STAGES)})"))
    ws = _workspace(ctx)
    engine = _engine(_config(ws, ws.environment(env)), api, token)
    records, problems = load_strategies(ws)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    try:
        items = engine.strategies()
    except MevopsError as exc:
        items = None
        for problem in exc.problems:
            typer.echo(f"warning: {problem}", err=True)
    loaded = {item["name"]: item for item in items or []}
    rows = []
    for r in sorted(records, key=lambda r: (STAGES.index(r.stage), r.spec.strategy.type, r.name)):
        if stage is None or r.stage == stage:
            item = loaded.get(r.name)
            rows.append({"name": r.name, "type": r.spec.strategy.type, "chains": list(r.spec.parameters.chains),
                         "stage": r.stage, "enabled": r.spec.strategy.enabled, "path": str(r.path.relative_to(ws.root)),
                         "loaded": None if items is None else bool(item and item.get("loaded")),
                         "running": None if items is None else bool(item and item.get("enabled"))})
    if as_json:
        from mevops.output import print_json

        print_json(rows)
        return
    from rich.table import Table

    from mevops.output import console

    table = Table(title=f"strategies ({ws.root}; engine {engine.url}{'' if items is not None else ': not running'})")
    for column in ("name", "type", "chains", "stage", "enabled", "loaded"):
        table.add_column(column, no_wrap=column in ("name", "stage"))
    for row in rows:
        state = "-" if row["loaded"] is None else ("no" if not row["loaded"] else ("yes" if row["running"] else "paused"))
        table.add_row(row["name"], row["type"], ", ".join(row["chains"]), row["stage"], "yes" if row["enabled"] else "no", state)
    console().print(table)


@app.command("validate")
def validate(ctx: typer.Context, paths: list[Path] = typer.Argument(..., help="Strategy files, in the workspace or not."),
             env: Optional[str] = ENV, as_json: bool = JSON) -> None:
    """Check files as if deployed: schema, references and the environment's risk limits (exit 2 on problems)."""
    from mevops.catalog import load_catalog
    from mevops.config.yamlsafe import display_path
    from mevops.errors import MevopsError
    from mevops.strategies.lifecycle import file_problems

    ws = _workspace(ctx)
    env = ws.environment(env)
    cfg = _config(ws, env)
    catalog = load_catalog(ws.path("chains"))
    results = {display_path(p): file_problems(p, ws, cfg, catalog) for p in paths}
    problems = [p for found in results.values() for p in found]
    if as_json:
        from mevops.output import print_json

        print_json({"env": env, "ok": not problems, "files": {f: [str(p) for p in found] for f, found in results.items()}})
        if problems:
            raise typer.Exit(2)
        return
    if problems:
        raise MevopsError(problems)
    for shown in results:
        typer.echo(f"ok: {shown} (as deployed in {env})")


def _move(ctx: typer.Context, source: Path, to: str, action: str, env: Optional[str], dry_run: bool, reason: str,
          api: Optional[str], token: Optional[str]) -> None:
    from mevops.errors import MevopsError
    from mevops.strategies.history import HISTORY
    from mevops.strategies.lifecycle import apply_move, plan_move, shown

    ws = _workspace(ctx)
    env = ws.environment(env)
    plan = plan_move(ws, env, source, to, action=action, reason=reason)
    if plan.problems:
        raise MevopsError(plan.problems)
    target = shown(plan.target, ws.root)
    came = plan.from_stage or "new"
    if dry_run:
        typer.echo(plan.diff(ws.root) or "(content unchanged)\n", nl=False)
        if plan.moves:
            typer.echo(f"move {shown(plan.source, ws.root)} -> {target}")
        for path in plan.remove:
            typer.echo(f"remove {shown(path, ws.root)} (one file, one place)")
        typer.echo(f"dry run: {plan.name} {came} -> {to} in {env} passes every check; nothing written")
        return
    entry = apply_move(ws, plan)
    typer.echo(f"{action}: {plan.name} {came} -> {to}: {target}"
               + (f" (recorded in {HISTORY})" if entry else " (no change)"))
    assert plan.config is not None
    _reload(_engine(plan.config, api, token), plan.name)


def _reload(engine, name: str) -> None:  # noqa: ANN001
    """Ask the running engine to reload; its refusal is reported with the same file:line problems."""
    from mevops.errors import MevopsError, Problem

    reply = engine.reload()
    if reply is None:
        typer.echo(f"no engine running at {engine.url}: it loads the change when it starts")
        return
    done = "the workspace change is done"
    if reply.status == 409:
        raise MevopsError(Problem(engine.url, None, "engine API", f"the engine cannot reload strategies "
                                  f"({reply.body.get('detail')}); {done}: restart the engine to load it"))
    if reply.status == 422:
        problems = [Problem(p.get("file", "?"), p.get("line"), p.get("key", ""), p.get("reason", ""))
                    for p in reply.body.get("problems", [])]
        raise MevopsError([Problem(engine.url, None, "engine API", f"the running engine refused the reload and keeps its "
                                   f"previous strategies; {done}: fix these, then deploy again")] + problems)
    body = reply.body
    changed = "; ".join(f"{k} {', '.join(body[k])}" for k in ("updated", "added", "disabled") if body.get(k)) or "no change"
    typer.echo(f"engine at {engine.url} reloaded: {changed}")
    refused = body.get("refused") or {}
    if name in refused:
        typer.echo(f"warning: the engine did not load {name}: {refused[name]}", err=True)


@app.command("deploy")
def deploy(ctx: typer.Context, path: Path = typer.Argument(..., help="The strategy file (in the workspace or not)."),
           to: str = typer.Option(..., "--to", help="testing or active."), env: Optional[str] = ENV,
           dry_run: bool = DRY_RUN, reason: str = REASON, api: Optional[str] = API, token: Optional[str] = TOKEN) -> None:
    """Validate against the environment's limits, move the file into its stage, audit, hot-reload the engine."""
    from mevops.errors import MevopsError, Problem
    from mevops.strategies.lifecycle import DEPLOY_STAGES

    if to not in DEPLOY_STAGES:
        raise MevopsError(Problem("--to", None, "", f"deploy to {' or '.join(DEPLOY_STAGES)}, not {to!r} "
                                  "(use `mevops strategy archive NAME` to archive)"))
    _move(ctx, path, to, "deploy", env, dry_run, reason, api, token)


@app.command("promote")
def promote(ctx: typer.Context, name: str = typer.Argument(...), env: Optional[str] = ENV, dry_run: bool = DRY_RUN,
            reason: str = REASON, api: Optional[str] = API, token: Optional[str] = TOKEN) -> None:
    """testing → active, when the promotion policy's time in testing and paper-trading record are met."""
    from mevops.strategies.lifecycle import find

    _move(ctx, find(_workspace(ctx), name), "active", "promote", env, dry_run, reason, api, token)


@app.command("archive")
def archive(ctx: typer.Context, name: str = typer.Argument(...), env: Optional[str] = ENV, dry_run: bool = DRY_RUN,
            reason: str = REASON, api: Optional[str] = API, token: Optional[str] = TOKEN) -> None:
    """Move a strategy to archived (the running engine stops it on reload)."""
    from mevops.strategies.lifecycle import find

    _move(ctx, find(_workspace(ctx), name), "archived", "archive", env, dry_run, reason, api, token)


@app.command("diff")
def diff(ctx: typer.Context, name: str = typer.Argument(...), env: Optional[str] = ENV, api: Optional[str] = API,
         token: Optional[str] = TOKEN, exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when they differ."),
         as_json: bool = JSON) -> None:
    """The workspace file against the copy the running engine loaded (else the last committed copy)."""
    from mevops.errors import CheckFailed, MevopsError, Problem
    from mevops.strategies.compare import from_engine, from_git, unified
    from mevops.strategies.lifecycle import find

    ws = _workspace(ctx)
    path = find(ws, name)
    current = str(path.relative_to(ws.root.resolve()))
    engine = _engine(_config(ws, ws.environment(env)), api, token)
    deployed = from_engine(engine, name) or from_git(ws.root, name, current)
    if deployed is None:
        raise MevopsError(Problem(current, None, "", f"nothing to compare with: no engine has {name!r} loaded at "
                                  f"{engine.url} and {ws.root} is not a git repository"))
    text = path.read_text()
    patch = unified(deployed, text, current)
    if as_json:
        from mevops.output import print_json

        print_json({"name": name, "path": current, "against": deployed.against, "deployed": deployed.label,
                    "note": deployed.note, "same": not patch, "diff": patch})
    else:
        typer.echo(f"# {current} against {deployed.label}" + (f" ({deployed.note})" if deployed.note else ""))
        typer.echo(patch or "no differences", nl=not patch)
    if patch and exit_code:
        raise CheckFailed()


@app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(...), env: Optional[str] = ENV, dry_run: bool = DRY_RUN,
            reason: str = REASON, api: Optional[str] = API, token: Optional[str] = TOKEN) -> None:
    """Stop a strategy now through the engine API, and set `enabled: false` in its file (comments kept)."""
    import difflib

    from mevops.errors import MevopsError, Problem
    from mevops.strategies.lifecycle import apply_disable, disabled, find

    ws = _workspace(ctx)
    env = ws.environment(env)
    path = find(ws, name)
    shown = str(path.relative_to(ws.root.resolve()))
    old, new, line = disabled(path)
    engine = _engine(_config(ws, env), api, token)
    if dry_run:
        before, after = old.decode().splitlines(True), new.decode().splitlines(True)
        patch = "".join(difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}"))
        typer.echo(patch or f"{shown} already says enabled: false\n", nl=False)
        typer.echo(f"dry run: would disable {name} in the engine at {engine.url} (if running); nothing written")
        return
    reply = engine.disable(name)
    in_engine = reply is not None and reply.status == 200
    apply_disable(ws, path, new, env, reason, engine_disabled=in_engine)
    typer.echo(f"{shown}:{line}: strategy.enabled: set to false" if line else f"{shown}: already enabled: false")
    if reply is None:
        typer.echo(f"no engine running at {engine.url}")
        return
    if reply.status == 409:
        raise MevopsError(Problem(engine.url, None, "engine API", f"the engine refused to disable {name}: "
                                  f"{reply.body.get('detail')} (the file says enabled: false)"))
    typer.echo(f"disabled {name} in the engine at {engine.url}" if in_engine
               else f"{name} is not loaded in the engine at {engine.url}")
    _reload(engine, name)
