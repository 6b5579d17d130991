"""Infrastructure: Terraform targets, Ansible provisioning and Kubernetes apply, from the rendered tree."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

app = typer.Typer(help="Infrastructure: terraform plan/apply/destroy/output, ansible provision, k8s build/apply.",
                  no_args_is_help=True, rich_markup_mode=None)
k8s_app = typer.Typer(help="Kubernetes: build the environment's kustomize overlay, apply it with the official client.",
                      no_args_is_help=True, rich_markup_mode=None)
app.add_typer(k8s_app, name="k8s")

TARGET = typer.Option(..., "--target", "-t", help="local (offline, terraform_data only), aws, gcp or azure.")
ENV = typer.Option(None, "--env", "-e", envvar="MEVOPS_ENV", help="Environment (the tree must be rendered for it).")
ROOT = typer.Option(None, "--root", help="Target root holding the rendered tree (default: mevops.yml's target_root; "
                                         "MEVOPS_ROOT).")
AUTO_APPROVE = typer.Option(False, "--auto-approve", help="Do not ask before changing anything (CI).")
JSON = typer.Option(False, "--json", help="Print JSON (Terraform's own output goes to stderr).")


def _where(ctx: typer.Context, env: str | None, root: str | None):  # noqa: ANN202
    from mevops.workspace import Workspace

    ws = Workspace.open(ctx.obj.get("workspace") if ctx.obj else None)
    return ws, ws.environment(env), ws.target_root(root)


def _echo(as_json: bool):  # noqa: ANN202
    return (lambda line: typer.echo(line, err=True)) if as_json else typer.echo


def _target(ctx: typer.Context, target: str, env: str | None, root: str | None, as_json: bool = False):  # noqa: ANN202
    from mevops.infra.terraform import open_target

    ws, env, root = _where(ctx, env, root)
    return open_target(ws.root, root, env, target, echo=_echo(as_json))


def _confirm(question: str, auto_approve: bool) -> None:
    from mevops.errors import MevopsError, Problem

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise MevopsError(Problem("--auto-approve", None, "", "not a terminal, so nothing can be confirmed: "
                                  "review the plan above and pass --auto-approve"))
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)


def _report(as_json: bool, data: dict, outputs: dict | None = None) -> None:
    """``data`` as JSON with --json; otherwise the Terraform outputs (if any) as ``name = value`` lines."""
    import json

    if as_json:
        from mevops.output import print_json

        print_json(data)
        return
    for name, value in sorted((outputs or {}).items()):
        text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
        typer.echo(f"{name} = {text}")


@app.command("plan")
def plan(ctx: typer.Context, target: str = TARGET, env: Optional[str] = ENV, root: Optional[str] = ROOT,
         as_json: bool = JSON) -> None:
    """Show what `apply` would change (terraform plan; nothing is changed)."""
    tf = _target(ctx, target, env, root, as_json)
    result = tf.plan()
    counts = tf.plan_counts() if result.changes else {}
    tf.plan_file.unlink(missing_ok=True)
    _report(as_json, {"target": tf.name, "env": tf.env, "changes": result.changes, "actions": counts,
                      "state": str(tf.state_file)})


@app.command("apply")
def apply(ctx: typer.Context, target: str = TARGET, env: Optional[str] = ENV, root: Optional[str] = ROOT,
          auto_approve: bool = AUTO_APPROVE, as_json: bool = JSON) -> None:
    """Plan, show the plan, then apply exactly that plan; print the outputs."""
    tf = _target(ctx, target, env, root, as_json)
    result = tf.plan()
    if result.changes:
        _confirm(f"Apply this plan to target {tf.name} ({tf.env})?", auto_approve)
        tf.apply()
    else:
        tf.plan_file.unlink(missing_ok=True)
        _echo(as_json)(f"target {tf.name} ({tf.env}) is up to date: nothing to apply")
    outputs = tf.outputs()
    _report(as_json, {"target": tf.name, "env": tf.env, "applied": result.changes, "outputs": outputs}, outputs)


@app.command("destroy")
def destroy(ctx: typer.Context, target: str = TARGET, env: Optional[str] = ENV, root: Optional[str] = ROOT,
            auto_approve: bool = AUTO_APPROVE) -> None:
    """Destroy everything the target's state holds (the plan is shown first unless --auto-approve)."""
    tf = _target(ctx, target, env, root)
    if tf.resource_count() == 0:
        typer.echo(f"target {tf.name} ({tf.env}) holds nothing: nothing to destroy")
        return
    if not auto_approve:
        tf.plan(destroy=True)
        tf.plan_file.unlink(missing_ok=True)
        _confirm(f"Destroy everything above in target {tf.name} ({tf.env})?", auto_approve)
    tf.destroy()
    typer.echo(f"target {tf.name} ({tf.env}) destroyed; state kept at {tf.state_file}")


@app.command("output")
def output(ctx: typer.Context, target: str = TARGET, env: Optional[str] = ENV, root: Optional[str] = ROOT,
           as_json: bool = JSON) -> None:
    """The target's outputs (node hosts, DNS names, ingress...) from its state."""
    outputs = _target(ctx, target, env, root, as_json).outputs()
    _report(as_json, outputs, outputs)


@app.command("provision")
def provision(ctx: typer.Context,
              inventory: str = typer.Option(..., "--inventory", "-i", help="Ansible inventory (file or directory)."),
              check: bool = typer.Option(False, "--check", help="Dry run: report what would change, change nothing."),
              limit: Optional[str] = typer.Option(None, "--limit", "-l", help="Only these hosts or groups (Ansible pattern)."),
              syntax_check: bool = typer.Option(False, "--syntax-check", help="Only check the playbook's syntax."),
              var: Optional[List[str]] = typer.Option(None, "--var", help="Extra variable KEY=VALUE (repeatable), "
                                                      "e.g. mevops_prefix=/mnt/image."),
              env: Optional[str] = ENV, root: Optional[str] = ROOT) -> None:
    """Provision node hosts with the rendered playbook (users, tree, configs, binaries, units, logrotate,
    firewall, monitoring agent), streaming each task's result."""
    from pathlib import Path

    from mevops.infra.ansible import ProvisionRequest, parse_vars
    from mevops.infra.ansible import provision as run_provision

    ws, env, root = _where(ctx, env, root)
    req = ProvisionRequest(Path(inventory), check, syntax_check, limit, parse_vars(var or []))
    report = run_provision(ws.root, root, env, req, echo=typer.echo)
    mode = "syntax check" if syntax_check else "check (nothing changed)" if check else "provisioned"
    typer.echo(f"{mode}: {len(report.stats.get('ok', {}) or {})} host(s) ok; log: {report.artifacts}")


@k8s_app.command("build")
def k8s_build(ctx: typer.Context, env: Optional[str] = ENV, root: Optional[str] = ROOT,
              as_json: bool = JSON) -> None:
    """Print the environment's objects (overlays/<env>, JWT Secrets included) as YAML, or --json."""
    from mevops.infra.kubernetes import build_overlay

    _, env, root = _where(ctx, env, root)
    objects = build_overlay(root, env)
    if as_json:
        from mevops.output import print_json

        print_json(objects)
        return
    import yaml

    typer.echo(yaml.safe_dump_all(objects, sort_keys=False), nl=False)


@k8s_app.command("apply")
def k8s_apply(ctx: typer.Context, env: Optional[str] = ENV, root: Optional[str] = ROOT,
              kubeconfig: Optional[str] = typer.Option(None, "--kubeconfig",
                                                       help="Kubeconfig file (default: KUBECONFIG, ~/.kube/config)."),
              context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
              dry_run: bool = typer.Option(False, "--dry-run", help="List what would be applied; contact no cluster.")) -> None:
    """Server-side apply the environment's overlay (engine and nodes) with the Kubernetes client."""
    from mevops.infra.kubernetes import apply_objects, build_overlay, describe

    _, env, root = _where(ctx, env, root)
    objects = build_overlay(root, env)
    if dry_run:
        for obj in objects:
            typer.echo(f"would apply {describe(obj)}")
        typer.echo(f"{len(objects)} objects ({env}); nothing applied (--dry-run)")
        return
    report = apply_objects(objects, kubeconfig, context, echo=typer.echo)
    typer.echo(f"applied {len(report.applied)} objects ({env})")
