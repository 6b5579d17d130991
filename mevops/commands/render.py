"""Render the standardized tree (nodes, MEV, infrastructure, environments) into the target root."""

from __future__ import annotations

from typing import List, Optional

import typer

SYMBOL = {"create": "+", "update": "~", "merge": "M", "conflict": "!", "overwrite": "~", "remove": "-",
          "orphan": "?", "deleted": "x", "kept": "=", "forget": " "}


def render(
    ctx: typer.Context,
    env: Optional[str] = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV", help="Environment."),
    root: Optional[str] = typer.Option(None, "--root", help="Target root (default: mevops.yml's target_root; MEVOPS_ROOT)."),
    chain: Optional[List[str]] = typer.Option(None, "--chain", help="Only this chain (repeatable)."),
    network: Optional[List[str]] = typer.Option(None, "--network", help="Only this network (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; write nothing."),
    diff: bool = typer.Option(False, "--diff", help="Print a diff of what would change; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 on any drift (a CI gate)."),
    force: bool = typer.Option(False, "--force", help="Overwrite edited files, recreate deleted ones, remove stale ones."),
    as_json: bool = typer.Option(False, "--json", help="Print the actions as JSON."),
) -> None:
    """Render the workspace into the target root: idempotent, user edits merged 3-way."""
    from mevops.errors import CheckFailed
    from mevops.render.run import RenderRequest, render as do_render
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    write = not (dry_run or diff or check)
    req = RenderRequest(ws.target_root(root), ws.environment(env), chain or None, network or None, write=write, force=force)
    outcome = do_render(ws, req)
    shown = [a for a in outcome.actions if a.kind not in ("unchanged", "kept", "forget")]
    if as_json:
        from mevops.output import print_json

        print_json({"root": str(req.root), "env": req.env, "written": write,
                    "actions": [{"path": a.path, "action": a.kind, "note": a.note} for a in shown],
                    "created": outcome.created, "unchanged": len(outcome.of("unchanged"))})
    else:
        dirs = [c for c in outcome.created if c.endswith("/")]
        lines = []  # printed at once: one write, not one per file
        if dirs:
            lines.append(f"{'would create' if not write else 'created'} {len(dirs)} directories (data, logs, source, binaries)")
        lines += [f"{'would create' if not write else 'created'} {line}" for line in outcome.created if not line.endswith("/")]
        for a in shown:
            lines.append(f"{SYMBOL.get(a.kind, ' ')} {a.kind:<9} {a.path}" + (f"  ({a.note})" if a.note else ""))
            if diff and a.result is not None:
                typer.echo("\n".join(lines))
                lines = []
                _print_diff(a)
        if lines:
            typer.echo("\n".join(lines))
        counts = {k: len(outcome.of(k)) for k in ("create", "update", "merge", "overwrite", "conflict", "remove", "kept", "unchanged")}
        summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        typer.echo(f"{'rendered' if write else 'would render'} {req.root} ({req.env}): {summary or 'nothing to do'}")
    if outcome.conflicts:
        raise CheckFailed(f"{len(outcome.conflicts)} conflict(s): " + ", ".join(a.path for a in outcome.conflicts))
    if check and outcome.drift:
        raise CheckFailed("drift: the target root differs from the model (run `mevops render`)")


def _print_diff(action) -> None:  # noqa: ANN001
    import difflib

    before = (action.disk or b"").decode(errors="replace").splitlines(True)
    after = (action.result or b"").decode(errors="replace").splitlines(True)
    typer.echo("".join(difflib.unified_diff(before, after, f"a/{action.path}", f"b/{action.path}")), nl=False)
