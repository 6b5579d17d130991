"""Show and validate the layered configuration."""

from __future__ import annotations

from typing import Optional

import typer

app = typer.Typer(help="Show and validate the layered configuration.", no_args_is_help=True, rich_markup_mode=None)

EnvOption = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV", help="Environment (default: mevops.yml's default_environment).")


def _workspace(ctx: typer.Context):  # noqa: ANN202
    from mevops.workspace import Workspace

    return Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)


def _flatten(data: object, prefix: tuple = ()) -> list[tuple[tuple, object]]:
    if isinstance(data, dict) and data:
        return [row for k, v in data.items() for row in _flatten(v, prefix + (k,))]
    if isinstance(data, list) and data and any(isinstance(v, (dict, list)) for v in data):
        return [row for i, v in enumerate(data) for row in _flatten(v, prefix + (i,))]
    return [(prefix, data)]


@app.command("show")
def show(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    explain: bool = typer.Option(False, "--explain", help="Tell which file and line (or variable) set every value."),
) -> None:
    """Print the effective configuration of an environment."""
    from mevops.config.validate import effective_config
    from mevops.config.yamlsafe import dotted
    from mevops.output import console, is_secret_key, mask_secrets, print_json

    ws = _workspace(ctx)
    env = ws.environment(env)
    _, layered = effective_config(ws, env)
    data = mask_secrets(layered.data)
    if not explain:
        if as_json:
            print_json(data)
        else:
            import yaml

            typer.echo(f"# effective configuration of {env!r} ({ws.root})")
            typer.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100).rstrip())
        return
    rows = [
        (dotted(path), "***" if any(is_secret_key(p) for p in path) else value, str(layered.origin_of(path) or "?"))
        for path, value in _flatten(layered.data)
    ]
    if as_json:
        print_json([{"key": k, "value": v, "origin": o} for k, v, o in rows])
        return
    from rich.table import Table

    table = Table(title=f"effective configuration of {env!r}", show_lines=False)
    for column in ("key", "value", "set by"):
        table.add_column(column, overflow="fold")
    for key, value, origin in rows:
        table.add_row(key, str(value), origin)
    console().print(table)


@app.command("validate")
def validate(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    all_envs: bool = typer.Option(False, "--all-envs", help="Validate every environment."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Validate the whole workspace: config, risk limits, strategies and catalog (exit 2 on problems)."""
    from mevops.config.validate import validate_workspace
    from mevops.errors import MevopsError
    from mevops.output import print_json

    ws = _workspace(ctx)
    envs = ws.environments() if all_envs else [ws.environment(env)]
    reports = [validate_workspace(ws, e) for e in envs]
    problems = list(dict.fromkeys(p for r in reports for p in r.problems))
    if as_json:
        print_json({
            "workspace": str(ws.root),
            "environments": {
                r.env: {"ok": r.ok, "chains": len(r.catalog), "strategies": len(r.strategies), "problems": [str(p) for p in r.problems]}
                for r in reports
            },
        })
        if problems:
            raise typer.Exit(2)
        return
    if problems:
        raise MevopsError(problems)
    for r in reports:
        typer.echo(f"ok: {r.env}: {len(r.catalog)} chains, {len(r.strategies)} strategies, "
                   f"{len(r.config.enabled_chains()) if r.config else 0} chains enabled")
