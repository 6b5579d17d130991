"""The ``mevops`` command line: registers thin command modules; heavy imports stay lazy."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from mevops import __version__

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


# name → (module, attribute, kind): a command's module is imported only when that command runs
# (or when every command is listed: --help, completion). Each costs 5-10 ms to import.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("mevops.commands.init", "init", "command"),
    "config": ("mevops.commands.config", "app", "group"),
    "chain": ("mevops.commands.chain", "app", "group"),
    "demo": ("mevops.commands.demo", "demo", "command"),
    "engine": ("mevops.commands.engine", "app", "group"),
    "render": ("mevops.commands.render", "render", "command"),
    "migrate": ("mevops.commands.migrate", "app", "group"),
    "strategy": ("mevops.commands.strategy", "app", "group"),
    "inspect": ("mevops.commands.inspect", "app", "group"),
    "infra": ("mevops.commands.infra", "app", "group"),
    "relay": ("mevops.commands.relay", "relay", "command"),
    "secrets": ("mevops.commands.secrets", "app", "group"),
}
_registered: set[str] = set()


def register(names: list[str] | None = None) -> None:
    """Register the given commands (all by default), once each, in the table's order."""
    import importlib

    for name in names if names is not None else list(COMMANDS):
        if name in _registered:
            continue
        module_name, attr, kind = COMMANDS[name]
        module = importlib.import_module(module_name)
        target = getattr(module, attr)
        if kind == "group":
            app.add_typer(target, name=name)
        else:
            app.command(name, help=module.__doc__ if name in ("init", "demo", "render") else None)(target)
        _registered.add(name)


def _wanted(args: list[str]) -> str | None:
    """The command a command line names, if that is certain (else None: register everything)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-w", "--workspace"):
            skip = True
            continue
        if arg.startswith("-"):
            if arg.startswith("--workspace=") or (arg.startswith("-w") and len(arg) > 2):
                continue
            return None  # --help, --version, an unknown option: let click see every command
        return arg if arg in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> None:
    from mevops.errors import CheckFailed, MevopsError

    import os

    args = sys.argv[1:] if argv is None else list(argv)
    wanted = None if any(k.endswith("_COMPLETE") for k in os.environ if k.startswith("_")) else _wanted(args)
    register([wanted] if wanted else None)
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
