"""``mevops render``: model → plan → decisions → (maybe) writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mevops.errors import MevopsError, Problem
from mevops.render.apply import Action, Outcome, decide, ensure_layout, execute, jwt_paths, layout_dirs
from mevops.render.context import RenderContext
from mevops.render.manifest import Manifest, file_stat


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


def load_context(ws, req: RenderRequest) -> RenderContext:  # noqa: ANN001
    from mevops.config.validate import validate_workspace

    report = validate_workspace(ws, req.env)
    if not report.ok:
        raise MevopsError(report.problems)
    assert report.config is not None
    enabled = report.config.enabled_chains()
    problems = []
    for chain in req.chains or []:
        if chain not in report.catalog:
            problems.append(Problem("--chain", None, chain, f"unknown chain (known: {', '.join(sorted(report.catalog))})"))
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

    return build_context(report.config, report.catalog, report.strategies, req.root, req.env)


INPUT_DIRS = ("config", "environments", "mev/config", "mev/strategies", "chains")


def fingerprint(ws, req: RenderRequest, templates: Path) -> str:  # noqa: ANN001
    """A hash of everything a render reads: workspace files, templates, request, MEVOPS_* and mevops' code."""
    import hashlib

    from mevops import __version__

    h = hashlib.sha256(repr((__version__, req.env, str(req.root), req.chains, req.networks)).encode())
    for name in sorted(k for k in os.environ if k.startswith("MEVOPS_")):
        h.update(f"{name}={os.environ[name]}\0".encode())
    sources = [(ws.root, ws.root / "mevops.yml")]
    sources += [(ws.root, p) for d in INPUT_DIRS for p in sorted((ws.root / d).rglob("*")) if p.is_file()]
    sources += [(templates, p) for p in sorted(templates.rglob("*")) if p.is_file()]
    for base, path in sources:
        h.update(f"{path.relative_to(base)}\0".encode())
        h.update(path.read_bytes())
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):  # code changes invalidate too (cheap: stat only)
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\0".encode())
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
    inputs = None
    if full and manifest.inputs is not None:  # a root rendered before: maybe nothing changed at all
        inputs = fingerprint(ws, req, templates)
        if not req.force and manifest.inputs == inputs and _untouched_since_last_render(manifest):
            return Outcome([Action(rel, "unchanged") for rel in manifest.files], cached=True)

    from mevops.render.plan import plan_tree

    ctx = load_context(ws, req)
    # a first render computes the fingerprint next to the templates (in the render's second process)
    side = (lambda: fingerprint(ws, req, templates)) if full and inputs is None else None
    planned, side_inputs = plan_tree(templates, ctx, side)
    inputs = inputs if side is None else side_inputs
    chains, networks = set(req.chains or []), set(req.networks or [])

    def in_scope(chain: str | None, network: str | None) -> bool:
        if chains and chain not in chains:
            return False
        if networks and network is not None and network not in networks:
            return False
        return True

    outcome = Outcome(decide(req.root, manifest, planned, force=req.force, in_scope=in_scope))
    try:
        outcome.created = ensure_layout(_scoped(ctx, chains), dry_run=not req.write)
        if req.write:
            execute(req.root, manifest, outcome.actions)
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
