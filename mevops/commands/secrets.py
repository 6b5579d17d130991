"""Secrets: the encrypted key store mev/config/api-keys.enc (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from --key-file, else the MEVOPS_SECRETS_KEY variable (the key itself), else the
config's global.security.encryption_key_path (relative to the workspace), else a prompt when
--prompt is given. Values are never printed except by `get`, and never appear in errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Secrets in mev/config/api-keys.enc: set, get, list, rotate (authenticated encryption).",
                  no_args_is_help=True, rich_markup_mode=None)
STORE = "mev/config/api-keys.enc"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
KeyFile = typer.Option(None, "--key-file", help="The key file (default: MEVOPS_SECRETS_KEY, else encryption_key_path).")
Prompt = typer.Option(False, "--prompt", help="Ask for the key on the terminal.")


def _context(ctx: typer.Context, key_file: Optional[Path], prompt: bool):  # noqa: ANN202
    """(store path, key bytes, key path or None)."""
    import os

    from mevops.errors import MevopsError, Problem
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    store = ws.root / STORE
    if key_file is not None:
        path = key_file
    elif os.environ.get("MEVOPS_SECRETS_KEY"):
        return store, os.environ["MEVOPS_SECRETS_KEY"].encode(), None
    elif prompt:
        return store, typer.prompt("encryption key", hide_input=True).encode(), None
    else:
        from mevops.config.validate import effective_config

        configured = Path(effective_config(ws, ws.environment(None))[0].global_.security.encryption_key_path)
        path = configured if configured.is_absolute() else ws.root / configured
    try:
        return store, path.read_bytes().strip(), path
    except FileNotFoundError:
        raise MevopsError(Problem(str(path), None, "encryption_key_path", "key file not found")) from None
    except OSError as exc:
        raise MevopsError(Problem(str(path), None, "encryption_key_path", f"cannot read the key file ({exc.strerror})")) from None


def _name(name: str) -> str:
    from mevops.errors import MevopsError, Problem

    if not NAME.match(name):
        raise MevopsError(Problem("NAME", None, name[:40], "a secret's name is letters, digits, _ . - (at most 128)"))
    return name


@app.command("set")
def set_(ctx: typer.Context, name: str = typer.Argument(..., help="The secret's name, e.g. flashbots_auth_key."),
         value: Optional[str] = typer.Option(None, "--value", help="The value (default: read from stdin or a hidden prompt)."),
         key_file: Optional[Path] = KeyFile, prompt: bool = Prompt) -> None:
    """Add or replace a secret (the store is created if missing)."""
    import sys

    from mevops.secrets import decrypt_store, encrypt_store

    store, key, _ = _context(ctx, key_file, prompt)
    _name(name)
    if value is None:
        value = typer.prompt(name, hide_input=True) if sys.stdin.isatty() else sys.stdin.read().rstrip("\n")
    values = decrypt_store(store, key) if store.exists() else {}
    values[name] = value
    encrypt_store(store, key, values)
    typer.echo(f"{name}: set ({len(values)} secrets in {STORE})")


@app.command("get")
def get(ctx: typer.Context, name: str = typer.Argument(...), key_file: Optional[Path] = KeyFile, prompt: bool = Prompt) -> None:
    """Print one secret's value."""
    from mevops.errors import MevopsError, Problem
    from mevops.secrets import decrypt_store

    store, key, _ = _context(ctx, key_file, prompt)
    values = decrypt_store(store, key)
    if _name(name) not in values:
        raise MevopsError(Problem(STORE, None, name, "no such secret"))
    typer.echo(values[name])


@app.command("list")
def list_(ctx: typer.Context, key_file: Optional[Path] = KeyFile, prompt: bool = Prompt) -> None:
    """The secrets' names (never their values)."""
    from mevops.secrets import decrypt_store

    store, key, _ = _context(ctx, key_file, prompt)
    for name in sorted(decrypt_store(store, key)):
        typer.echo(name)


@app.command("rotate")
def rotate(ctx: typer.Context, key_file: Optional[Path] = KeyFile, prompt: bool = Prompt) -> None:
    """A new key: every secret re-encrypted under it, the key file replaced (the old key is kept
    next to it as <key>.old until you delete it)."""
    from mevops.errors import MevopsError, Problem
    from mevops.secrets import rotate_store

    store, key, path = _context(ctx, key_file, prompt)
    if path is None:
        raise MevopsError(Problem("--key-file", None, "", "rotation writes a new key file: give --key-file or use "
                                  "the configured encryption_key_path, not MEVOPS_SECRETS_KEY or --prompt"))
    count = rotate_store(store, key, path)
    typer.echo(f"rotated: {count} secrets re-encrypted under a new key in {path} (old key kept as {path.name}.old)")
