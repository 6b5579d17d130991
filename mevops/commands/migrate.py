"""Migrate a legacy nodes directory into the standardized tree, never losing a byte."""

from __future__ import annotations

import sys
from typing import Optional

import typer

app = typer.Typer(help="Migrate a legacy nodes directory into the standardized tree (scan → plan → apply; "
                       "resume, rollback, verify, status).", no_args_is_help=True, rich_markup_mode=None)

JsonOption = typer.Option(False, "--json", help="Print JSON.")
YesOption = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
StopOption = typer.Option(False, "--stop", help="Stop what still uses the data (containers, systemd units, "
                          "mevops-supervised nodes, bare processes) through the lifecycle layer, then migrate.")
GraceOption = typer.Option(None, "--grace", metavar="DURATION", help="With --stop: how long a node may take to stop "
                           "after SIGTERM before it is killed (default 300s: big databases flush on the way down).")


def _grace(stop: bool, value: Optional[str]) -> float:
    """--grace as seconds (exit 2 if it is not a duration, or given without --stop)."""
    from mevops.config.units import parse_millis
    from mevops.errors import MevopsError, Problem
    from mevops.migrate.stop import DEFAULT_GRACE

    if value is None:
        return DEFAULT_GRACE
    if not stop:
        raise MevopsError(Problem("--grace", None, "", "only means something with --stop (nothing is stopped without it)"))
    try:
        return parse_millis(value) / 1000
    except ValueError as exc:
        raise MevopsError(Problem("--grace", None, "", str(exc))) from None


def _workspace(ctx: typer.Context) -> Optional[str]:
    return ctx.obj.get("workspace") if ctx.obj else None


def _confirm(yes: bool, question: str) -> None:
    from mevops.errors import MevopsError, Problem

    if yes:
        return
    if not sys.stdin.isatty():
        raise MevopsError(Problem("--yes", None, "", "not a terminal: pass --yes to go ahead without a question"))
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)


def _load_for_journal(plan_file: str):  # noqa: ANN202
    """The plan (not checked against the disk: items may have moved) and its migration journal."""
    from mevops.config.yamlsafe import display_path
    from mevops.errors import MevopsError, Problem
    from mevops.migrate.journal import Migration
    from mevops.migrate.plan import load_plan

    plan = load_plan(plan_file, fresh=False)
    mig = Migration.find(plan.root)
    if mig is None:
        raise MevopsError(Problem(display_path(plan_file), None, "", f"no migration journal under {plan.root}/.mevops/migrate "
                                  "(was this plan applied?)"))
    journaled = mig.state().plan_id
    if journaled != plan.plan_id:
        raise MevopsError(Problem(display_path(plan_file), None, "", f"does not match the migration journaled under {plan.root} "
                                  f"(plan {plan.plan_id}, journal {journaled}; the applied plan is {mig.plan_file})"))
    return plan, mig


@app.command("scan")
def scan(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="SRC", help="The legacy nodes directory (read only)."),
    as_json: bool = JsonOption,
) -> None:
    """Inventory SRC: what every entry is (by name and contents), sizes, and hazards."""
    from mevops.migrate.scan import load_index
    from mevops.migrate.scan import scan as do_scan

    inventory = do_scan(source, load_index(_workspace(ctx)))
    if as_json:
        from mevops.output import print_json

        print_json(inventory.as_dict())
    else:
        from mevops.migrate.tables import inventory as show

        show(inventory)


@app.command("plan")
def plan(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="SRC", help="The legacy nodes directory."),
    root: Optional[str] = typer.Option(None, "--root",
                                       help="Target root DEST (default: MEVOPS_ROOT, or the workspace's target_root)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the plan here (default: print it)."),
) -> None:
    """Write a reviewable, editable YAML plan mapping every entry of SRC into the standardized tree."""
    import os
    from pathlib import Path

    from mevops.errors import MevopsError, Problem
    from mevops.migrate.plan import build_plan, dump_plan, summary
    from mevops.migrate.scan import check_source, load_index
    from mevops.migrate.scan import scan as do_scan
    from mevops.workspace import Workspace, resolve_root

    src = check_source(source)
    ws = None
    if not root and not os.environ.get("MEVOPS_ROOT"):
        ws = Workspace.open(_workspace(ctx))
    dest = resolve_root(root, ws)
    real_src, real_dest = os.path.realpath(src), os.path.realpath(dest)
    if real_dest == real_src or real_dest.startswith(real_src + "/"):
        raise MevopsError(Problem("--root", None, "", f"{dest} is inside the source {src}: choose a root outside it"))
    if os.path.lexists(dest) and not os.path.isdir(dest):
        raise MevopsError(Problem("--root", None, "", f"{dest} exists and is not a directory"))
    the_plan = build_plan(do_scan(src, load_index(_workspace(ctx))), Path(dest))
    text = dump_plan(the_plan, output or "plan.yml")
    if output:
        Path(output).write_text(text)
        typer.echo(f"wrote {output}: {summary(the_plan)}", err=True)
    else:
        typer.echo(text, nl=False)


@app.command("apply")
def apply(
    plan_file: str = typer.Argument(..., metavar="PLAN", help="The plan file (from `mevops migrate plan`)."),
    yes: bool = YesOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the steps; touch nothing."),
    stop: bool = StopOption,
    grace_text: Optional[str] = GraceOption,
) -> None:
    """Execute a plan with a durable journal: renames on one filesystem, verified copies across."""
    from mevops.migrate.apply import apply_plan, same_filesystem, steps_of
    from mevops.migrate.journal import Migration
    from mevops.migrate.plan import human_bytes, load_plan, summary
    from mevops.migrate.tables import RichProgress

    grace = _grace(stop, grace_text)
    the_plan = load_plan(plan_file, fresh=False)
    existing = Migration.find(the_plan.root)
    continuing = existing is not None and existing.state().plan_id == the_plan.plan_id and not existing.state().rolled_back
    if not continuing:
        the_plan = load_plan(plan_file, fresh=True)
    steps = steps_of(the_plan)
    if dry_run:
        for s in steps:
            how = "rewrite" if s.op == "rewrite" else ("rename" if _exists(s.src) and same_filesystem(s.src, s.dst) else "copy")
            typer.echo(f"{s.n:4} {how:8} {s.item.source} -> {s.item.dest}")
        _would_stop(the_plan, steps, stop, grace)
        typer.echo(f"would apply: {summary(the_plan)} (dry run: nothing touched)")
        return
    _confirm(yes, f"Migrate {the_plan.source} into {the_plan.root} ({len(the_plan.moves)} moves)?")
    from pathlib import Path

    outcome = apply_plan(the_plan, Path(plan_file).read_text(), progress=RichProgress(), stop=stop, grace=grace)
    if outcome.already:
        typer.echo(f"already applied (journal {outcome.journal}); nothing to do")
        return
    _report(outcome, human_bytes)


def _exists(path: str) -> bool:
    import os

    return os.path.lexists(path)


def _would_stop(plan, steps, stop: bool, grace: float) -> None:  # noqa: ANN001
    """--dry-run: who uses the data, and what --stop would do about each."""
    from mevops.migrate.holders import in_use

    busy = in_use(plan, steps)
    if busy and stop:
        from mevops.migrate.stop import describe

        for line in describe(busy, grace):
            typer.echo(line)
    elif busy:
        typer.echo(f"in use (apply refuses unless --stop):\n  {busy.shown()}")


def _report(outcome, human_bytes) -> None:  # noqa: ANN001
    for line in outcome.stopped:
        typer.echo(f"stopped: {line}")
    speed = outcome.copied_bytes / outcome.seconds if outcome.seconds and outcome.copied_bytes else 0
    typer.echo(f"migrated: {outcome.renamed} renamed, {outcome.copied} copied ({human_bytes(outcome.copied_bytes)}"
               + (f", {human_bytes(speed)}/s" if speed else "") + f"), {outcome.rewritten} rewritten "
               f"in {outcome.seconds:.2f} s; journal {outcome.journal}")
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command("resume")
def resume(
    root: Optional[str] = typer.Option(None, "--root", help="The root the plan was applied to (default: the last one)."),
    stop: bool = StopOption,
    grace_text: Optional[str] = GraceOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the steps still to do; touch nothing."),
) -> None:
    """Continue an interrupted apply from its journal."""
    from mevops.migrate.apply import resume as do_resume
    from mevops.migrate.plan import human_bytes
    from mevops.migrate.status import find_migration
    from mevops.migrate.status import status as do_status
    from mevops.migrate.tables import RichProgress

    grace = _grace(stop, grace_text)
    mig = find_migration(root)
    if dry_run:
        pending = [r for r in do_status(mig)["steps"] if r["state"] != "done"]
        for r in pending:
            typer.echo(f"{r['step']:4} {r['state']:8} {r['op']:8} {r['source']} -> {r['dest']}")
        typer.echo(f"would resume {len(pending)} steps (dry run: nothing touched)")
        return
    outcome = do_resume(mig, progress=RichProgress(), stop=stop, grace=grace)
    if outcome.already:
        typer.echo(f"nothing to resume: the migration is complete (journal {outcome.journal})")
        return
    _report(outcome, human_bytes)


@app.command("rollback")
def rollback(
    plan_file: str = typer.Argument(..., metavar="PLAN", help="The plan that was applied."),
    yes: bool = YesOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be undone; touch nothing."),
) -> None:
    """Restore the original tree exactly (after a complete or a partial apply)."""
    from mevops.migrate.rollback import rollback as do_rollback
    from mevops.migrate.status import status as do_status
    from mevops.migrate.tables import RichProgress

    the_plan, mig = _load_for_journal(plan_file)
    if dry_run:
        rows = [r for r in do_status(mig)["steps"] if r["state"] not in ("planned", "undone")]
        for r in reversed(rows):
            typer.echo(f"{r['step']:4} undo {r['op']:8} {r['dest']} -> {r['source']}")
        typer.echo(f"would undo {len(rows)} steps (dry run: nothing touched)")
        return
    _confirm(yes, f"Move everything back into {the_plan.source}?")
    outcome = do_rollback(mig, progress=RichProgress())
    if outcome.nothing:
        typer.echo("already rolled back")
        return
    typer.echo(f"rolled back: {outcome.restored} moves undone, {outcome.rewrites} rewrites undone; "
               f"{the_plan.source} is as it was; journal archived at {outcome.archived}")


@app.command("verify")
def verify(
    plan_file: str = typer.Argument(..., metavar="PLAN", help="The plan that was applied."),
    as_json: bool = JsonOption,
) -> None:
    """Prove every source byte is present at its destination (exit 1 if not)."""
    from mevops.errors import CheckFailed
    from mevops.migrate.verify import verify as do_verify

    _, mig = _load_for_journal(plan_file)
    checks = do_verify(mig)
    bad = [c for c in checks if not c.ok]
    if as_json:
        from mevops.output import print_json

        print_json({"ok": not bad, "checks": [c.__dict__ for c in checks]})
    else:
        from mevops.migrate.tables import checks_table

        checks_table([c for c in checks if not c.ok] or checks)
        typer.echo(f"{len(checks) - len(bad)}/{len(checks)} checks passed")
    if bad:
        raise CheckFailed(f"verify: {len(bad)} of {len(checks)} checks failed")


@app.command("status")
def status(
    root: Optional[str] = typer.Option(None, "--root", help="The root the plan was applied to (default: the last one)."),
    as_json: bool = JsonOption,
) -> None:
    """Show where a migration stands."""
    from mevops.migrate.status import find_migration
    from mevops.migrate.status import status as do_status

    info = do_status(find_migration(root, allow_history=True))
    if as_json:
        from mevops.output import print_json

        print_json(info)
        return
    counts = ", ".join(f"{n} {state}" for state, n in sorted(info["counts"].items()))
    typer.echo(f"migration {info['plan_id']}: {info['source']} -> {info['root']}")
    typer.echo(f"state: {info['state']} ({counts}); {info['kept']} entries kept in place")
    if info["stopped"]:
        from mevops.migrate.stop import Stopped

        for r in info["stopped"]:
            typer.echo(f"stopped first (--stop): {Stopped.from_record(r)}")
    pending = [r for r in info["steps"] if r["state"] != "done"]
    if pending and info["state"] != "rolled back":
        from mevops.migrate.tables import steps_table

        steps_table(pending, "steps not done")
    for r in (r for r in info["steps"] if r["error"]):
        typer.echo(f"step {r['step']} failed: {r['error']}")
