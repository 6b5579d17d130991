"""The ``mevops`` command line: registers thin command modules; heavy imports stay lazy."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from mevops import __version__
from mevops.commands import chain as chain_cmd
from mevops.commands import config as config_cmd
from mevops.commands import demo as demo_cmd
from mevops.commands import engine as engine_cmd
from mevops.commands import init as init_cmd
from mevops.commands import migrate as migrate_cmd
from mevops.commands import render as render_cmd
from mevops.commands import strategy as strategy_cmd

app = typer.Typer(
    name="mevops",
    help="Run blockchain nodes and MEV strategies from one workspace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs ~175 ms per start
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mevops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Optional[str] = typer.Option(
        None, "-w", "--workspace", envvar="MEVOPS_WORKSPACE", show_envvar=True,
        help="Workspace directory (default: walk up from here to mevops.yml).",
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    ctx.obj = {"workspace": workspace}


app.command("init", help=init_cmd.__doc__)(init_cmd.init)
app.add_typer(config_cmd.app, name="config")
app.add_typer(chain_cmd.app, name="chain")
app.command("demo", help=demo_cmd.__doc__)(demo_cmd.demo)
app.add_typer(engine_cmd.app, name="engine")
app.command("render", help=render_cmd.__doc__)(render_cmd.render)
app.add_typer(migrate_cmd.app, name="migrate")
app.add_typer(__import__("mevops.commands.infra", fromlist=["app"]).app, name="infra")  # mevops infra
app.command("relay")(__import__("mevops.commands.relay", fromlist=["relay"]).relay)  # mevops relay: devnet bundle relay
app.add_typer(__import__("mevops.commands.inspect", fromlist=["app"]).app, name="inspect")  # mevops inspect block
app.add_typer(strategy_cmd.app, name="strategy")


def main(argv: list[str] | None = None) -> None:
    from mevops.errors import CheckFailed, MevopsError

    try:
        app(args=argv, prog_name="mevops")
    except MevopsError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except CheckFailed as exc:
        if str(exc):
            print(str(exc), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
