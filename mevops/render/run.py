"""``mevops render``: model → plan → decisions → (maybe) writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.errors import MevopsError, Problem
from mevops.render.apply import Action, Outcome, decide, ensure_layout, execute, jwt_paths, layout_dirs
from mevops.render.context import RenderContext
from mevops.render.manifest import Manifest, file_stat

if TYPE_CHECKING:
    from mevops.render.inputs import Inputs
    from mevops.render.plan import PlannedFile


@dataclass
class RenderRequest:
    root: Path
    env: str
    chains: list[str] | None = None
    networks: list[str] | None = None
    write: bool = True
    force: bool = False


def check_root(root: Path) -> None:
    """A usable target root, or exit 2 before anything is written."""
    probe = root
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe == root and not root.is_dir():
        raise MevopsError(Problem(str(root), None, "--root", "exists and is not a directory"))
    if not probe.is_dir():
        raise MevopsError(Problem(str(root), None, "--root", f"{probe} is not a directory"))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise MevopsError(Problem(str(root), None, "--root", f"{probe} is not writable"))


def load_context(ws, req: RenderRequest, inputs_fingerprint: str | None = None) -> RenderContext:  # noqa: ANN001
    from mevops.render.inputs import load_inputs

    return context_for(load_inputs(ws, req.env, inputs_fingerprint), req)


def context_for(inputs: "Inputs", req: RenderRequest) -> RenderContext:
    """The render context of validated inputs, or exit 2 if the request names what they lack."""
    enabled = inputs.config.enabled_chains()
    problems = []
    for chain in req.chains or []:
        if chain not in inputs.catalog:
            problems.append(Problem("--chain", None, chain, f"unknown chain (known: {', '.join(sorted(inputs.catalog))})"))
        elif chain not in enabled:
            problems.append(Problem("--chain", None, chain, f"not enabled in the {req.env} config"))
    for network in req.networks or []:
        if network not in ("mainnet", "testnet", "local"):
            problems.append(Problem("--network", None, network, "unknown network (mainnet, testnet, local)"))
        elif req.chains and not any(network in enabled[c].networks for c in req.chains if c in enabled):
            problems.append(Problem("--network", None, network, f"not enabled for {', '.join(req.chains)}"))
    if problems:
        raise MevopsError(problems)
    from mevops.render.context import build_context

    return build_context(inputs.config, inputs.catalog, inputs.strategies, req.root, req.env)


def fingerprint(inputs: str, req: RenderRequest, templates: Path) -> str:
    """A hash of everything a render reads: the inputs' fingerprint (workspace files, MEVOPS_*,
    mevops' code; ``mevops.render.inputs.input_fingerprint``), the request and the templates."""
    import hashlib

    h = hashlib.sha256(repr((inputs, str(req.root), req.chains, req.networks)).encode())
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            h.update(f"{path.relative_to(templates)}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _untouched_since_last_render(manifest: Manifest) -> bool:
    for rel, entry in manifest.files.items():
        if entry.conflict or entry.stat != file_stat(manifest.root / rel):
            return False
    return all(Path(p).exists() for p in manifest.layout)


def render(ws, req: RenderRequest) -> Outcome:  # noqa: ANN001
    from mevops.reference import templates_root

    check_root(req.root)
    templates = templates_root()
    manifest = Manifest.load(req.root)
    full = not (req.chains or req.networks)
    from mevops.render.inputs import PendingInputs, input_fingerprint

    source = input_fingerprint(ws, req.env)
    inputs = None
    if full and manifest.inputs is not None:  # a root rendered before: maybe nothing changed at all
        inputs = fingerprint(source, req, templates)
        if not req.force and manifest.inputs == inputs and _untouched_since_last_render(manifest):
            from mevops.render import prefork

            prefork.discard()
            return Outcome([Action(rel, "unchanged") for rel in manifest.files], cached=True)

    pending = PendingInputs(ws, req.env, source)
    try:
        from mevops.render.plan import plan_tree, prepared_environment

        jinja_env = None
        if pending.pid is not None:  # validating in another process: load what rendering needs meanwhile
            import mevops.render.deployment  # noqa: F401
            import mevops.render.monitoring  # noqa: F401

            jinja_env = prepared_environment(templates, pending.ready)
            if full and inputs is None and not pending.ready():
                inputs = fingerprint(source, req, templates)
        ctx = context_for(pending.result(), req)
        # a first render hashes the templates next to rendering them (in the render's second process)
        side = (lambda: fingerprint(source, req, templates)) if full and inputs is None else None
        planned, side_inputs = plan_tree(templates, ctx, side, jinja_env)
        inputs = inputs if side is None else side_inputs
        return _apply(req, manifest, planned, ctx, inputs, full)
    finally:
        pending.close()  # the validating process, if any, stored its result by now


def _apply(req: RenderRequest, manifest: Manifest, planned: "list[PlannedFile]", ctx: RenderContext,
           inputs: str | None, full: bool) -> Outcome:
    chains, networks = set(req.chains or []), set(req.networks or [])

    def in_scope(chain: str | None, network: str | None) -> bool:
        if chains and chain not in chains:
            return False
        if networks and network is not None and network not in networks:
            return False
        return True

    fresh = not req.root.exists()
    outcome = Outcome(decide(req.root, manifest, planned, force=req.force, in_scope=in_scope))
    try:
        outcome.created = ensure_layout(_scoped(ctx, chains), dry_run=not req.write)
        if req.write:
            execute(req.root, manifest, outcome.actions, fresh=fresh)
            for rel, entry in manifest.files.items():
                entry.stat = file_stat(req.root / rel)
            manifest.inputs = inputs if not outcome.conflicts else None
            if full:
                manifest.layout = sorted({str(p) for p, _ in layout_dirs(ctx)} | {str(p) for p in jwt_paths(ctx)})
            manifest.save()
    except OSError as exc:
        raise MevopsError(Problem(str(req.root), None, "--root", f"cannot write: {exc.strerror or exc} ({exc.filename})")) from None
    return outcome


def _scoped(ctx: RenderContext, chains: set[str]) -> RenderContext:
    if not chains:
        return ctx
    return RenderContext(ctx.env, ctx.root, ctx.version, ctx.config, [c for c in ctx.chains if c.name in chains], ctx.strategies)
