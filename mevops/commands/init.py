"""Create a workspace from the reference workspace shipped with mevops."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def init(
    directory: Path = typer.Argument(..., help="Where to create the workspace (created if missing)."),
    chains: Optional[str] = typer.Option(None, "--chains", help="Comma-separated chains to enable (default: all)."),
    root: Optional[str] = typer.Option(None, "--root", help="Target root for the standardized tree (default /data/blockchain)."),
    environment: str = typer.Option("development", "--default-env", help="Default environment."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be written, write nothing."),
) -> None:
    """Create a workspace (mevops.yml, config/, environments/, mev/, chains/, infrastructure/).

    Idempotent: existing files are never overwritten; a second run adds only what is missing.
    """
    from mevops.workspace_init import init_workspace

    selected = [c.strip() for c in chains.split(",") if c.strip()] if chains is not None else None
    result = init_workspace(directory, selected, root, environment, dry_run=dry_run)
    verb = "would write" if dry_run else "wrote"
    for rel in result.written:
        typer.echo(f"{verb} {rel}")
    if result.kept:
        typer.echo(f"kept {len(result.kept)} existing file(s) unchanged")
    if not dry_run:
        typer.echo(f"workspace ready at {result.root} ({len(result.enabled)} chains enabled: {', '.join(result.enabled)})")
