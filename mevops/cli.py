"""The ``mevops`` command line: registers thin command modules; heavy imports stay lazy."""

from __future__ import annotations

import sys
from typing import Optional

from mevops import __version__


def _command_word(args: list[str]) -> str | None:
    """The first word of a command line that is not an option (or -w's value); None if an option
    other than -w comes first (--help, --version, an unknown one)."""
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
        return arg
    return None


def _start_validator(argv: list[str]) -> None:
    """``mevops render`` run as a program: fork the process that will validate the workspace now,
    before typer loads, so that its slow imports overlap the CLI's start (``render.prefork``)."""
    import os

    program = argv[0] if argv else ""
    as_program = os.path.basename(program) == "mevops" or program.endswith(os.path.join("mevops", "__main__.py"))
    if as_program and _command_word(argv[1:]) == "render" and not {"-h", "--help"} & set(argv[1:]):
        from mevops.render import prefork

        prefork.start()


_start_validator(sys.argv)

import typer  # noqa: E402

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
    word = _command_word(args)
    return word if word in COMMANDS else None


def _help_cache() -> "Path | None":
    """Where the top-level help is kept, keyed by everything that shapes it: the version, the
    command modules (size and mtime) and the terminal width. Building it imports every command
    and makes typer introspect them all (~110 ms); reading it costs a stat per module."""
    import hashlib
    import importlib.util
    import os
    import shutil
    from pathlib import Path

    parts = [__version__, str(shutil.get_terminal_size().columns), os.environ.get("COLUMNS", "")]
    for module in ("mevops.cli", *(m for m, _, _ in COMMANDS.values())):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            return None
        st = os.stat(spec.origin)
        parts.append(f"{module}:{st.st_size}:{st.st_mtime_ns}")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mevops"
    return base / f"help-{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:20]}.txt"


def _cached_help() -> bool:
    """Print the top-level help from the cache (building it on a miss); False if impossible."""
    import contextlib
    import io
    import os

    try:
        path = _help_cache()
    except OSError:
        return False
    if path is None:
        return False
    try:
        sys.stdout.write(path.read_text())
        return True
    except OSError:
        pass
    register()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            app(args=["--help"], prog_name="mevops")
        except SystemExit as exc:
            if exc.code not in (0, None):
                return False
    text = buffer.getvalue()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: the help is still printed
    sys.stdout.write(text)
    return True


def main(argv: list[str] | None = None) -> None:
    from mevops.errors import CheckFailed, MevopsError

    import os

    args = sys.argv[1:] if argv is None else list(argv)
    if args in (["--help"], ["-h"]) and _cached_help():
        return
    wanted = None if any(k.endswith("_COMPLETE") for k in os.environ if k.startswith("_")) else _wanted(args)
    if wanted:
        register([wanted])
    elif not (args and args[0] == "--version"):  # --version needs no command at all
        register()
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
